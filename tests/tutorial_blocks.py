"""The shell blocks of a Markdown page and the outputs it shows for them, and how an output is compared.

A page marks what a command prints with a fenced block ```` ```text title="Output" ```` right after the
```` ```bash ```` block that prints it (only blank lines between). The expected lines are compared with what
the block printed (stdout and stderr together, ANSI codes removed):

- blank lines are ignored, and every run of whitespace counts as one space (tables align to their content);
- the lines must match in order, from the first to the last: ``...`` on a line of its own matches any number
  of lines (also none), so a block that shows only the end of an output starts with ``...``;
- ``…`` inside a line matches any text: a time, a duration, a hash, a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OUTPUT_INFO = 'text title="Output"'
SKIP = "..."
ANY = "…"

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*(.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@dataclass
class ShellBlock:
    """One ```bash block: its text, the line where it starts, and the output the page shows for it."""

    script: str
    line: int
    expected: list[str] | None = None


def shell_blocks(markdown: str) -> list[ShellBlock]:
    """The ```bash blocks of a page in order, each with its Output block when one follows it."""
    blocks: list[ShellBlock] = []
    lines = markdown.splitlines()
    index, previous_was_shell = 0, False
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            previous_was_shell = previous_was_shell and not lines[index].strip()
            index += 1
            continue
        fence, info = match.groups()
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == fence), None)
        if end is None:
            raise ValueError(f"line {index + 1}: the code block never ends")
        body = lines[index + 1:end]
        if info.strip() == "bash":
            blocks.append(ShellBlock("\n".join(body) + "\n", index + 1))
        elif info.strip() == OUTPUT_INFO:
            if not previous_was_shell:
                raise ValueError(f"line {index + 1}: an Output block must follow a ```bash block")
            blocks[-1].expected = body
        previous_was_shell = info.strip() == "bash"
        index = end + 1
    return blocks


def _normal(line: str) -> str:
    return " ".join(_ANSI.sub("", line).split())


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _normal(expected).split(ANY)))


def _matches(patterns: list[re.Pattern[str] | None], actual: list[str]) -> bool:
    """Do the lines match the patterns, in order and completely (None: any number of lines)?"""
    reachable = {0}  # how many lines of ``actual`` the patterns so far can have consumed
    for pattern in patterns:
        if pattern is None:
            reachable = set(range(min(reachable), len(actual) + 1)) if reachable else set()
        else:
            reachable = {a + 1 for a in reachable if a < len(actual) and pattern.fullmatch(actual[a])}
    return len(actual) in reachable


def mismatch(expected: list[str], output: str) -> str | None:
    """None when ``output`` matches the expected lines, else which expected line is the first that differs."""
    wanted = [line for line in (_normal(e) for e in expected) if line]
    actual = [line for line in (_normal(a) for a in output.splitlines()) if line]
    patterns = [None if line == SKIP else _pattern(line) for line in wanted]
    if _matches(patterns, actual):
        return None
    matched = max(k for k in range(len(patterns) + 1) if _matches([*patterns[:k], None], actual))
    if matched == len(patterns):
        return "the output goes on after the last expected line (end the block with '...' to allow that)"
    return f"expected line {matched + 1}, {wanted[matched]!r}, does not match what follows"
