"""Workflow schedules: the one place their rules live, valid on Airflow 2.10 and 3.x alike.

A schedule is ``None`` (manual runs only), ``"@once"``, ``"@continuous"``, a cron preset (``@hourly``,
``@daily``/``@midnight``, ``@weekly``, ``@monthly``, ``@quarterly``, ``@yearly``/``@annually``), a 5-field cron
expression, or a positive ``datetime.timedelta``.

Cron expressions are checked as Airflow's croniter reads them, minus what bigflow refuses to keep DAG files
portable and readable: numbers, names (``JAN``, ``MON``), ranges (not wrapping around), lists and steps;
``?`` in the day fields; ``L`` (the last day) in day-of-month; ``DAY#N`` (the N-th weekday of the month) in
day-of-week. ``5L`` in day-of-week is refused (Airflow refuses it), and so are 6-field expressions (seconds or
years). Presets become cron expressions in the DAG files, so each DAG gets an explicit
``CronDataIntervalTimetable``: the same file behaves the same on Airflow 2 and 3.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bigflow.errors import InvalidWorkflowError

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
SPECIAL = ("@once", "@continuous")
KNOWN = (*SPECIAL[:1], *PRESETS, *SPECIAL[1:])

_MONTHS = {name: number for number, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {name: number for number, name in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day-of-month", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day-of-week", 0, 7, _DAYS))


@dataclass(frozen=True)
class Schedule:
    """A checked schedule: ``kind`` is ``none``, ``once``, ``continuous``, ``cron`` or ``delta``; ``value`` the
    cron expression or the seconds; ``source`` what the workflow said."""

    kind: str
    value: str | int | None = None
    source: str = ""


def _value(text: str, low: int, high: int, names: Mapping[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        valid = f" or a name ({', '.join(names)})" if names else ""
        raise ValueError(f"{text!r} is not a number{valid}")
    if not low <= int(text) <= high:
        raise ValueError(f"{text} is out of range {low}-{high}")
    return int(text)


def _check_item(item: str, field: str, low: int, high: int, names: Mapping[str, int]) -> None:
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        raise ValueError(f"step {step!r} must be a number >= 1")
    if base == "*" or (base == "?" and field.startswith("day")) or (base.upper() == "L" and field == "day-of-month"):
        return
    if field == "day-of-week" and not slash and "#" in base:
        day, _, nth = base.partition("#")
        _value(day, low, high, names)
        if nth not in {"1", "2", "3", "4", "5"}:
            raise ValueError(f"the week number after '#' must be 1-5, got {nth!r}")
        return
    start, dash, end = base.partition("-")
    first = _value(start, low, high, names)
    if dash and _value(end, low, high, names) < first:
        raise ValueError(f"range {base!r} goes backwards")


def cron_error(expression: str) -> str | None:
    """Why a 5-field cron expression is invalid (see the module docstring), or None."""
    fields = expression.split()
    if len(fields) != 5:
        return f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
    for text, (field, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in text.split(","):
            try:
                _check_item(item, field, low, high, names)
            except ValueError as error:
                return f"{field} field {text!r}: {error}"
    return None


def check_cron(expression: str) -> str:
    """The expression, whitespace-normalised, if it is valid; else ``ValueError`` saying why."""
    problem = cron_error(expression)
    if problem:
        raise ValueError(problem)
    return " ".join(expression.split())


def parse(value: Any, workflow_id: str = "?", max_active_runs: int = 1) -> Schedule:
    """A workflow's ``schedule_interval`` as a :class:`Schedule`; a one-line ``InvalidWorkflowError`` naming the
    workflow when Airflow would reject it (``@continuous`` also needs ``max_active_runs`` 1)."""
    prefix = f"workflow {workflow_id!r}: invalid schedule_interval {value!r}"
    if value is None:
        return Schedule("none", None, "None")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds <= 0:
            raise InvalidWorkflowError(f"{prefix}: a timedelta schedule must be positive")
        if seconds != int(seconds):
            raise InvalidWorkflowError(f"{prefix}: a timedelta schedule must be a whole number of seconds")
        return Schedule("delta", int(seconds), str(value))
    if not isinstance(value, str):
        raise InvalidWorkflowError(f"{prefix}: use a preset, a cron expression, a timedelta or None")
    text = value.strip()
    if text == "@continuous" and max_active_runs != 1:
        raise InvalidWorkflowError(f"{prefix}: '@continuous' needs max_active_runs=1 (Airflow allows one run at a "
                                   f"time), got {max_active_runs}")
    if text in SPECIAL:
        return Schedule(text[1:], None, text)
    if text in PRESETS:
        return Schedule("cron", PRESETS[text], text)
    if text.startswith("@"):
        close = difflib.get_close_matches(text.lower(), KNOWN, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"presets are {', '.join(KNOWN)}"
        raise InvalidWorkflowError(f"{prefix}: unknown preset; {hint}")
    problem = cron_error(text)
    if problem:
        raise InvalidWorkflowError(f"{prefix}: {problem}")
    return Schedule("cron", " ".join(text.split()), text)
