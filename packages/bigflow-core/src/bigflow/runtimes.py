"""Runtimes (the logical time of a run): the one place they are parsed, range-checked and formatted.

Accepted: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` (also ``T``-separated), a ``date`` or a ``datetime``, and ISO
8601 with a UTC offset (converted to UTC). Runtimes are naive datetimes in UTC; the default (no runtime given)
is the current UTC time, to the second. Years have four digits: ``0001-01-01`` is formatted
``0001-01-01 00:00:00``; a value outside years 1-9999 (after the offset) is a one-line error.

``runtime_str`` (1.x's ``context.runtime_str`` and the ``{dt}`` of SQL templates) keeps what the user wrote when
it is one of 1.x's forms (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS``); other forms are formatted
``YYYY-MM-DD HH:MM:SS``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bigflow.errors import InvalidValueError

FORMAT = "%Y-%m-%d %H:%M:%S"  # as text: always through format(), which pads the year to four digits
FORMATS_1X = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
EXPECTED = "expected 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (or ISO 8601 with a UTC offset)"


def now() -> datetime:
    """The current time in UTC, naive, to the second (the default runtime)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def parse(value: str | date | datetime | None, what: str = "runtime") -> datetime:
    """A runtime as a naive UTC datetime; a one-line ``InvalidValueError`` naming ``what`` when it is not one."""
    if value is None:
        return now()
    if isinstance(value, datetime):
        return _utc(value, value, what)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} is {value!r}, not a time: {EXPECTED}")
    text = value.strip()
    for fmt in FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError(f"{what} is {value!r}, not a time: {EXPECTED}") from None
    return _utc(parsed, value, what)


def _utc(moment: datetime, given: object, what: str) -> datetime:
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise InvalidValueError(f"{what} is {str(given)!r}, out of range: in UTC it falls outside years 0001-9999") from None


def format(moment: datetime) -> str:  # noqa: A001 - runtimes.format reads well
    """``YYYY-MM-DD HH:MM:SS`` with a four-digit year (``strftime('%Y')`` gives ``1`` for year 1 on Linux)."""
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")


def runtime_str(value: str | date | datetime | None, parsed: datetime | None = None) -> str:
    """1.x's ``runtime_str``: ``value`` as written when it is a 1.x form, else the formatted runtime."""
    moment = parsed or parse(value)
    if isinstance(value, str):
        text = value.strip()
        for fmt in FORMATS_1X:
            try:
                datetime.strptime(text, fmt)
            except ValueError:
                continue
            return text
    return format(moment)
