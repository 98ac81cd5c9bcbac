"""A horizontal bar chart, as inline SVG, of the ratios in one results table of ``bench/RESULTS.md``.

The table is Markdown with the columns ``command``, ..., ``× floor``, ``× 1.x``, ... (``bench/run`` writes
them). The chart shows ``× 1.x`` (the BigFlow 1.x baseline is the bar at 1.00×, and a line marks it) when the
table has a baseline, else ``× floor`` (the bare interpreter, left out of the bars). Colours come from the
theme's CSS variables, so the chart follows the light and dark palettes.
"""

from __future__ import annotations

import html

WIDTH = 760
LABEL = 330  # width of the label column
ROW = 24
TOP = 34
BAR_SPACE = WIDTH - LABEL - 80  # room for the value after the longest bar


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _ratio(cell: str) -> float | None:
    try:
        return float(cell.removesuffix("×"))
    except ValueError:
        return None


def _label(command: str) -> str:
    text = command.replace("`", "").replace("*", "").strip()
    return text if len(text) <= 46 else text[:45] + "…"


def chart(table: list[str]) -> str | None:
    """The SVG for the table's rows, or None when the table has no ratio to draw."""
    header, rows = _cells(table[0]), [_cells(r) for r in table[2:]]
    baseline = "× 1.x" in header and any("(baseline)" in r[0] for r in rows)
    column = header.index("× 1.x" if baseline else "× floor")
    bars = [(r[0], value) for r in rows if "(floor)" not in r[0] and (value := _ratio(r[column])) is not None]
    if not bars:
        return None
    top = max(max(value for _, value in bars), 1.0 if baseline else 0.0)
    scale = BAR_SPACE / top
    height = TOP + ROW * len(bars) + 8
    title = ("median wall time as a multiple of BigFlow 1.11.3's (1.00×; shorter is faster)" if baseline
             else "median wall time as a multiple of a bare 'python -c pass'")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{html.escape(title)}" style="max-width:{WIDTH}px;font-size:12px">',
             f'<text x="0" y="16" style="fill:var(--md-default-fg-color--light)">{html.escape(title)}</text>']
    for index, (command, value) in enumerate(bars):
        y = TOP + index * ROW
        colour = "--md-default-fg-color--lighter" if "(baseline)" in command else "--md-primary-fg-color"
        parts += [
            f'<text x="{LABEL - 8}" y="{y + 15}" text-anchor="end" style="fill:var(--md-default-fg-color)">'
            f"{html.escape(_label(command))}</text>",
            f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{max(value * scale, 1):.1f}" height="{ROW - 8}" '
            f'style="fill:var({colour})"><title>{html.escape(_label(command))}: {value:.2f}×</title></rect>',
            f'<text x="{LABEL + value * scale + 6:.1f}" y="{y + 15}" style="fill:var(--md-default-fg-color)">'
            f"{value:.2f}×</text>",
        ]
    if baseline:
        x = LABEL + scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 4}" y2="{height - 4}" stroke-dasharray="4 3" '
                     'style="stroke:var(--md-default-fg-color--light)"/>')
    parts.append("</svg>")
    return "".join(parts)
