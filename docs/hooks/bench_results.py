"""mkdocs hook: the benchmarks page shows ``bench/RESULTS.md`` as it is when the site is built.

``docs/benchmarks.md`` holds the marker ``<!-- bench/RESULTS.md -->``; this hook replaces it with the file that
``bash bench/run`` rewrites, its headings moved one level down (the page has its own title). Links in the file
that point at other files of the repository become plain text, since those files are not part of the site.

What only the machine that ran the benchmarks cares about stays out of the page: the "stderr of the last timed
run" lists, and absolute paths (paths inside the repository become relative, others are left out). Each
results table gets a bar chart of its ratios before it (SVG drawn here, see :mod:`bench_chart`): ``× 1.x``
when the table has a BigFlow 1.x baseline, else ``× floor``. The build fails (``PluginError``) when the file or
the marker is missing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).parent))
from bench_chart import chart  # noqa: E402 - a module beside this hook

PAGE = "benchmarks.md"
MARKER = "<!-- bench/RESULTS.md -->"
RESULTS = Path("bench") / "RESULTS.md"

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,5}) ")
_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|mailto:|#)([^)\s]+)\)")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.+@-]+/)+[\w.+@-]*")
_STDERR = "stderr of the last timed run"
_KEEP = ("/dev/null",)
_IN_REPOSITORY = re.compile(r".*?/((?:bench|packages|docs|scripts|tests|\.venv)(?:/.*)?)$")
_GONE = "\0"  # where a path was left out


def results_path(config) -> Path:
    return Path(config.config_file_path).resolve().parent / RESULTS


def _paths(line: str) -> str:
    """Absolute paths: those into a checkout of the repository as relative paths, ``/dev/null`` as it is,
    others (interpreters, home directories) left out."""
    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        inside = _IN_REPOSITORY.match(path)
        return path if path in _KEEP else inside.group(1) if inside else _GONE

    line = _ABSOLUTE_PATH.sub(replace, line)
    return re.sub(rf" (?:in|at|from) {_GONE}|\s*{_GONE}", "", line)


def _without_stderr(lines: list[str]) -> list[str]:
    """The lines without the 'stderr of the last timed run' paragraphs (the heading line and its list)."""
    kept, skipping = [], False
    for line in lines:
        if line.startswith(_STDERR):
            skipping = True
        elif skipping and line.strip() and not line.startswith("- "):
            skipping = False
        if not skipping:
            kept.append(line)
    return kept


def _with_charts(lines: list[str]) -> list[str]:
    """A chart before each results table (a Markdown table whose header has a ratio column)."""
    out, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("| command |") and ("× floor" in line or "× 1.x" in line):
            end = index
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            svg = chart(lines[index:end])
            if svg:
                out += [f'<div class="bench-chart">{svg}</div>', ""]
            out += lines[index:end]
            index = end
            continue
        out.append(line)
        index += 1
    return out


def include(text: str) -> str:
    """RESULTS.md as part of the page: headings one level down, repository-relative links as text, no stderr
    dumps or machine paths, a chart before each results table."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(r"#\1 ", line)
            line = _RELATIVE_LINK.sub(lambda m: f"{m.group(1)} (`bench/{m.group(2)}`)", line)
        lines.append(_paths(line))
    return "\n".join(_with_charts(_without_stderr(lines)))


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
