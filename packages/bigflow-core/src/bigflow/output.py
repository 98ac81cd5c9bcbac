"""Output for people and machines, for core and plugins alike (re-exported by ``bigflow.api``).

Results go to stdout (``print_table``, ``print_json``); progress, warnings and questions go to stderr
(``say``, ``warn``, ``progress``, ``confirm``), so a command's output can be piped.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_warned: set[str] = set()
_lock = threading.Lock()
_showing = False  # a progress line is on the terminal


def say(message: str) -> None:
    """A progress line on stderr (stdout stays for results); none with -q/--quiet."""
    from bigflow.verbosity import quiet

    if not quiet():
        print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """A one-line ``bigflow: warning: ...`` on stderr, shown once per process."""
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    print(f"bigflow: warning: {message}", file=sys.stderr, flush=True)


def reset_warnings() -> None:
    """Forget which warnings were shown (each CLI run in a test acts as a new process)."""
    with _lock:
        _warned.clear()


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (values JSON cannot hold are written as their ``str``)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table: rich on a terminal; plain, aligned, header-first columns when piped."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(str(c)) for c in column) for column in zip(columns, *rows, strict=False)]
    for line in [columns, *rows]:
        sys.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip() + "\n")


class ProgressLine:
    """What ``with progress(...) as line:`` gives: ``line.update("step 3/7")`` changes the shown text."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar, self._task = bar, task

    def update(self, message: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=message)


@contextmanager
def progress(message: str) -> Iterator[ProgressLine]:
    """``with progress("uploading DAGs") as line:`` — a spinner with the elapsed time on a terminal.

    Nothing when stderr is not a terminal or with -q/--quiet, so piped output stays the same; one line at a
    time (a progress started while another is shown, e.g. by a parallel job, shows nothing).
    """
    from bigflow.verbosity import quiet

    global _showing
    with _lock:
        show = not (_showing or quiet() or not sys.stderr.isatty())
        _showing = _showing or show
    if not show:
        yield ProgressLine()
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            yield ProgressLine(bar, bar.add_task(message, total=None))
    finally:
        with _lock:
            _showing = False


def confirm(question: str, *, assume_yes: bool = False) -> bool:
    """Ask a yes/no question on a terminal (default no); False when stdin is not a terminal.

    ``assume_yes`` (a command's ``--yes``) answers yes without asking.
    """
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        return False
    import click

    return click.confirm(question, default=False, err=True)
