"""1.x SQL templating: ``str.format`` with table aliases, properties and ``{dt}`` (literal braces doubled).

A table alias outside quotes becomes a backquoted id (`` `project.dataset.table` ``); inside backquotes or
a string literal it is inserted as is. BigQuery reads both the same way; the emulator needs the quotes for
project ids with dashes.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping
from typing import Any

from bigflow_bigquery.errors import AliasNotFoundError

_FORMATTER = string.Formatter()


class _Lexer:
    """Tracks whether the end of the SQL seen so far is inside a quote or a comment."""

    def __init__(self) -> None:
        self.state: str | None = None  # a quote character, '--' (line comment) or '/*'

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            char, pair = text[i], text[i:i + 2]
            if self.state is None:
                if pair in ("--", "/*"):
                    self.state, i = pair, i + 2
                    continue
                if char == "#":
                    self.state = "--"
                elif char in "'\"`":
                    self.state = char
            elif self.state == "--":
                if char == "\n":
                    self.state = None
            elif self.state == "/*":
                if pair == "*/":
                    self.state, i = None, i + 2
                    continue
            elif char == "\\":
                i += 2
                continue
            elif char == self.state:
                self.state = None
            i += 1


def render(sql: str, variables: Mapping[str, Any], tables: Mapping[str, str], *, what: str) -> str:
    """Fill ``{name}`` fields of ``sql`` from ``tables`` (full table ids) and ``variables``."""
    lexer = _Lexer()
    parts: list[str] = []
    try:
        fields = list(_FORMATTER.parse(sql))
    except ValueError as error:
        raise AliasNotFoundError(
            f"invalid template in the SQL of {what}: {error}; write literal braces as '{{{{' and '}}}}'"
        ) from None
    for literal, name, spec, conversion in fields:
        parts.append(literal)
        lexer.feed(literal)
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise AliasNotFoundError(
                f"positional '{{{name}}}' in the SQL of {what}: name a table alias or property, and write "
                "literal braces as '{{' and '}}'"
            )
        key = name.split(".")[0].split("[")[0]
        if key in tables and name == key:
            value = tables[key]
            parts.append(value if lexer.state is not None else f"`{value}`")
            continue
        if key not in variables or name != key:
            known = sorted({*tables, *variables})
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise AliasNotFoundError(
                f"unknown table alias {name!r} in the SQL of {what}: it is not an internal or external table "
                f"or a property of the dataset (known: {', '.join(known)}){hint}"
            )
        value = variables[key]
        if conversion:
            value = _FORMATTER.convert_field(value, conversion)
        parts.append(format(value, spec or ""))
    return "".join(parts)
