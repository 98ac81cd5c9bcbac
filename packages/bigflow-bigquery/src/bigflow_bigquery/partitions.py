"""Runtimes and the partition window a write replaces: ``[start, end)`` of the runtime's DAY, HOUR, MONTH or YEAR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bigflow.api import BigflowError

UNITS = ("HOUR", "DAY", "MONTH", "YEAR")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_runtime(value: str | datetime | date) -> datetime:
    """``'YYYY-MM-DD[ HH:MM[:SS]]'``, a ``date`` or a ``datetime`` -> naive ``datetime``."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    for fmt in _FORMATS:
        try:
            return datetime.strptime(str(value).strip(), fmt)
        except ValueError:
            continue
    raise BigflowError(f"invalid runtime {value!r}: expected 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'")


def runtime_str(value: str | datetime | date) -> str:
    """The 1.x ``{dt}`` of a runtime given as a string: kept as written; dates and datetimes formatted."""
    if isinstance(value, str):
        parse_runtime(value)
        return value
    return parse_runtime(value).strftime("%Y-%m-%d %H:%M:%S")


def unit(value: str | None, default: str = "DAY") -> str:
    """A partition unit (case-insensitive), or a one-line error naming the valid ones."""
    name = (value or default).upper()
    if name not in UNITS:
        raise BigflowError(f"invalid partition type {value!r}: use one of {', '.join(UNITS)}")
    return name


@dataclass(frozen=True)
class Window:
    """The time range of one partition."""

    unit: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, runtime: datetime, unit_name: str) -> Window:
        if unit_name == "HOUR":
            start = runtime.replace(minute=0, second=0, microsecond=0)
            return cls(unit_name, start, start + timedelta(hours=1))
        if unit_name == "DAY":
            start = runtime.replace(hour=0, minute=0, second=0, microsecond=0)
            return cls(unit_name, start, start + timedelta(days=1))
        if unit_name == "MONTH":
            start = datetime(runtime.year, runtime.month, 1)
            end = datetime(runtime.year + runtime.month // 12, runtime.month % 12 + 1, 1)
            return cls(unit_name, start, end)
        return cls(unit_name, datetime(runtime.year, 1, 1), datetime(runtime.year + 1, 1, 1))

    @property
    def partition_id(self) -> str:
        """BigQuery's partition id: ``YYYYMMDDHH``, ``YYYYMMDD``, ``YYYYMM`` or ``YYYY``."""
        return self.start.strftime({"HOUR": "%Y%m%d%H", "DAY": "%Y%m%d", "MONTH": "%Y%m", "YEAR": "%Y"}[self.unit])

    def __str__(self) -> str:
        if self.unit == "HOUR":
            return self.start.strftime("%Y-%m-%d %H:00")
        return self.start.strftime({"DAY": "%Y-%m-%d", "MONTH": "%Y-%m", "YEAR": "%Y"}[self.unit])
