"""Printing for people (rich tables on a terminal, plain aligned text when piped) and for machines (JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def print_json(data: Any) -> None:
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
