"""mkdocs hook: the benchmarks page shows ``bench/RESULTS.md`` as it is when the site is built.

``docs/benchmarks.md`` holds the marker ``<!-- bench/RESULTS.md -->``; this hook replaces it with the file that
``bash bench/run`` rewrites, its headings moved one level down (the page has its own title). Links in the file
that point at other files of the repository become plain text, since those files are not part of the site.
The build fails (``PluginError``) when the file or the marker is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

PAGE = "benchmarks.md"
MARKER = "<!-- bench/RESULTS.md -->"
RESULTS = Path("bench") / "RESULTS.md"

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,5}) ")
_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|mailto:|#)([^)\s]+)\)")


def results_path(config) -> Path:
    return Path(config.config_file_path).resolve().parent / RESULTS


def include(text: str) -> str:
    """RESULTS.md as part of the page: headings one level down, repository-relative links as text."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(r"#\1 ", line)
            line = _RELATIVE_LINK.sub(lambda m: f"{m.group(1)} (`bench/{m.group(2)}`)", line)
        lines.append(line)
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"bench_results hook: {PAGE} lacks the marker {MARKER}")
    path = results_path(config)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PluginError(f"bench_results hook: cannot read {path}: {error.strerror}; run 'bash bench/run'") from error
    return markdown.replace(MARKER, include(text))
