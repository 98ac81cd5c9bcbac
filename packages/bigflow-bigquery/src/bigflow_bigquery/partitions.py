"""The partition window a write replaces: ``[start, end)`` of the runtime's DAY, HOUR, MONTH or YEAR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bigflow.api import BigflowError

UNITS = ("HOUR", "DAY", "MONTH", "YEAR")


def unit(value: str | None, default: str = "DAY") -> str:
    """A partition unit (case-insensitive), or a one-line error naming the valid ones."""
    name = (value or default).upper()
    if name not in UNITS:
        raise BigflowError(f"invalid partition type {value!r}: use one of {', '.join(UNITS)}")
    return name


_DECORATOR_FORMS = {4: ("%Y", "YEAR"), 6: ("%Y%m", "MONTH"), 8: ("%Y%m%d", "DAY"), 10: ("%Y%m%d%H", "HOUR")}


def split_decorator(table_name: str) -> tuple[str, Window | None]:
    """``'table$YYYYMMDD'`` (1.x) -> ``('table', that partition's Window)``; a plain name -> ``(name, None)``.

    A bad decorator is a one-line error naming the table, the partition and the forms BigQuery accepts.
    """
    table, dollar, partition = table_name.partition("$")
    if not dollar:
        return table_name, None
    form = _DECORATOR_FORMS.get(len(partition)) if partition.isascii() and partition.isdigit() else None
    try:
        if table and form:
            return table, Window.of(datetime.strptime(partition, form[0]), form[1])
    except ValueError:
        pass
    raise BigflowError(f"invalid partition {partition!r} of table {table!r} in {table_name!r}: expected "
                       "table$YYYY, table$YYYYMM, table$YYYYMMDD or table$YYYYMMDDHH naming a real date and hour")


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
