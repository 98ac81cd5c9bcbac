"""Workflow schedules as Airflow accepts them, checked before a DAG file is written.

A schedule is ``None`` (manual runs only), ``"@once"``, ``"@continuous"``, a cron preset (``@hourly``, ``@daily``, ...), a
5-field cron expression, or a ``datetime.timedelta``. Presets become cron expressions, so every periodic DAG
gets an explicit ``CronDataIntervalTimetable`` (or ``DeltaDataIntervalTimetable``): the run for an interval
starts when the interval ends and its logical date is the interval's start — as in BigFlow 1.x and Airflow 2,
and unlike Airflow 3's default trigger timetable, so the same file behaves the same on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bigflow.api import BigflowError

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = "sun mon tue wed thu fri sat".split()
# field name, lowest, highest, names (index + lowest = value)
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"^(?P<range>\*|\?|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


@dataclass(frozen=True)
class Schedule:
    """A checked schedule: ``kind`` is ``none``, ``once``, ``continuous``, ``cron`` or ``delta``; ``value`` the
    cron expression or the seconds."""

    kind: str
    value: str | int | None = None
    source: str = ""  # what the workflow said, for messages and headers


def _value(text: str, field: tuple) -> int:
    name, low, high, names = field
    if text.isdigit():
        number = int(text)
    elif text in names:
        number = names.index(text) + low
    else:
        raise ValueError(f"{text!r} is not a valid {name}")
    if not low <= number <= high:
        raise ValueError(f"{name} {number} is out of range {low}-{high}")
    return number


def _check_field(text: str, field: tuple) -> None:
    name = field[0]
    for item in text.split(","):
        if name == "day of week" and "#" in item:  # n-th weekday of the month, e.g. 5#3
            day, _, nth = item.partition("#")
            _value(day, field)
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise ValueError(f"{item!r} is not a valid {name}")
            continue
        if item == "l" and name == "day of month":
            continue
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"{item!r} is not a valid {name}")
        if match["step"] is not None and int(match["step"]) == 0:
            raise ValueError(f"step 0 in {item!r}")
        part = match["range"]
        if part in ("*", "?"):
            continue
        first, _, last = part.partition("-")
        start = _value(first, field)
        if last and _value(last, field) < start:
            raise ValueError(f"range {part!r} goes backwards")


def check_cron(expression: str) -> str:
    """The expression if it is a valid 5-field cron expression, else ``ValueError`` saying why."""
    fields = expression.lower().split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(fields)}")
    for text, field in zip(fields, _FIELDS, strict=True):
        _check_field(text, field)
    return " ".join(expression.split())


def parse_schedule(value: object, workflow_id: str) -> Schedule:
    """Check a workflow's ``schedule_interval``; a one-line error naming the workflow when Airflow would reject it."""
    if value is None:
        return Schedule("none", None, "None")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds <= 0 or seconds != int(seconds):
            raise BigflowError(f"workflow {workflow_id!r}: schedule_interval {value!r} must be a positive "
                               "whole number of seconds")
        return Schedule("delta", int(seconds), str(value))
    if not isinstance(value, str):
        raise BigflowError(f"workflow {workflow_id!r}: schedule_interval must be a cron string, a preset such as "
                           f"'@daily', a timedelta or None, got {type(value).__name__} {value!r}")
    text = value.strip()
    if text in ("@once", "@continuous"):
        return Schedule(text[1:], None, text)
    if text.startswith("@"):
        if text in PRESETS:
            return Schedule("cron", PRESETS[text], text)
        import difflib

        known = [*PRESETS, "@once", "@continuous"]
        close = difflib.get_close_matches(text.lower(), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(known)}"
        raise BigflowError(f"workflow {workflow_id!r}: schedule_interval {value!r} is not an Airflow preset{hint}")
    try:
        return Schedule("cron", check_cron(text), text)
    except ValueError as error:
        raise BigflowError(f"workflow {workflow_id!r}: schedule_interval {value!r} is not a valid cron "
                           f"expression: {error} (e.g. '0 3 * * *' for 03:00 daily)") from None
