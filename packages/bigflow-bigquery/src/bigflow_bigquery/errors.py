"""Errors of the BigQuery plugin, and the translation of BigQuery errors into one-line messages."""

from __future__ import annotations

import re

from bigflow.api import BigflowError


class AliasNotFoundError(BigflowError, ValueError):
    """A ``{name}`` in SQL names no table alias, external table, property or ``dt`` (1.x: ``AliasNotFoundError``)."""

    retryable = False  # the same SQL fails the same way on every attempt


class BigQuerySqlError(BigflowError):
    """BigQuery (or the emulator) rejected a statement; ``line`` is the line of the user's SQL it points at."""

    retryable = False

    def __init__(self, message: str, *, line: int | None = None, sql: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.sql = sql
        self.reason = reason


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TOKEN = re.compile(r"<Token token_type: [^,]+, text: ([^,]+), [^>]*>")
_POSITION = (
    re.compile(r"at \[(\d+):(\d+)\]"),          # BigQuery: 'Syntax error: ... at [3:5]'
    re.compile(r"Line (\d+), Col: (\d+)"),      # the emulator's parser
)
_NAMES = (
    re.compile(r'[Rr]eferenced column "([^"]+)"'),
    re.compile(r"Unrecognized name: (\w+)"),
    re.compile(r'column with name "([^"]+)"'),
    re.compile(r"Name (\w+) not found"),
    re.compile(r'Table with name "?(\w+)"? does not exist'),
    re.compile(r"Function not found: (\w+)"),
    re.compile(r'[Ss]calar [Ff]unction with name "?(\w+)"? does not exist'),
)
_EMULATOR_NOISE = re.compile(r"^Query execution failed: (?:[A-Z][\w ]*? Error: )?")
_POSITION_TEXT = re.compile(r"\.? ?(?:Line \d+, Col: \d+\.?|at \[\d+:\d+\])")


def first_line(text: str) -> str:
    """The first meaningful line of an engine message, without colours or parser internals."""
    text = _TOKEN.sub(r"\1", _ANSI.sub("", text))
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = line.split("; reason: ")[0]
    return _POSITION_TEXT.sub("", _EMULATOR_NOISE.sub("", line)).strip()


def engine_message(error: Exception) -> str:
    """The message of a google-api-core error (``errors[0].message``), else ``str(error)``."""
    errors = getattr(error, "errors", None) or []
    if errors and isinstance(errors[0], dict) and errors[0].get("message"):
        return str(errors[0]["message"])
    return str(getattr(error, "message", None) or error)


def locate(message: str, sql: str, first_sql_line: int) -> int | None:
    """The line of ``sql`` (1-based) an engine error points at.

    ``first_sql_line`` is the line of the submitted statement where ``sql`` starts (statements the plugin
    wraps around user SQL shift the engine's line numbers). Errors without a position (e.g. an unknown
    column reported by the emulator) are located by the first line of ``sql`` naming the offending name.
    """
    total = sql.count("\n") + 1
    for pattern in _POSITION:
        match = pattern.search(message)
        if match:
            line = int(match.group(1)) - first_sql_line + 1
            return line if 1 <= line <= total else None
    for pattern in _NAMES:
        match = pattern.search(message)
        if match:
            word = re.compile(rf"(?<![\w.]){re.escape(match.group(1))}(?!\w)", re.IGNORECASE)
            for number, text in enumerate(sql.splitlines(), start=1):
                if word.search(text):
                    return number
    return None


def sql_error(error: Exception, *, what: str, sql: str | None, first_sql_line: int = 1) -> BigflowError:
    """A one-line error for a failed statement: what failed, the line of the user's SQL, the engine's reason."""
    message = engine_message(error)
    reason = first_line(message)
    line = locate(message, sql, first_sql_line) if sql else None
    if line is not None and sql is not None:
        source = sql.splitlines()[line - 1].strip()
        where = f" at line {line} ({source[:80]!r})"
    else:
        where = ""
    return BigQuerySqlError(f"{what} failed{where}: {reason}", line=line, sql=sql, reason=reason)
