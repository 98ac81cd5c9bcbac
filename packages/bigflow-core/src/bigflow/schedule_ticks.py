"""The runtimes a workflow's schedule gives within a range: what ``bigflow run --from --to`` backfills.

A cron schedule (or preset) ticks at every minute its five fields match; as in cron (and Airflow's croniter),
when both day-of-month and day-of-week are restricted a day matching either one matches. ``L`` is the last day
of the month, ``DAY#N`` the N-th such weekday of the month. A ``timedelta`` schedule ticks every interval
from the start of the range (a workflow has no start date of its own). ``None``, ``@once`` and ``@continuous``
have no runtimes to backfill. The schedule itself is checked by :mod:`bigflow.schedules`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bigflow import schedules
from bigflow.errors import UsageError

MAX_TICKS = 10000


def ticks(schedule_interval: Any, start: datetime, end: datetime, workflow_id: str = "?") -> list[datetime]:
    """Every runtime of the schedule from ``start`` to ``end``, both included, in order."""
    schedule = schedules.parse(schedule_interval, workflow_id)
    if schedule.kind == "cron":
        found = _cron(str(schedule.value), start, end)
    elif schedule.kind == "delta":
        found = _every(timedelta(seconds=int(schedule.value or 0)), start, end)
    else:
        raise UsageError(f"workflow {workflow_id!r} has no schedule to backfill (schedule_interval "
                         f"{schedule.source}); run it with --runtime instead")
    runtimes = []
    for moment in found:
        if len(runtimes) == MAX_TICKS:
            raise UsageError(f"the range holds more than {MAX_TICKS} runtimes of workflow {workflow_id!r} "
                             f"({schedule.source}); backfill a shorter range at a time")
        runtimes.append(moment)
    return runtimes


def _every(step: timedelta, start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += step


def _field(text: str, low: int, high: int, names: Any) -> tuple[set[int], bool, list[tuple[int, int]]]:
    """The values an (already checked) cron field allows, whether it holds ``L``, and its ``DAY#N`` items."""
    values: set[int] = set()
    last, nth = False, []
    for item in text.split(","):
        base, slash, step = item.partition("/")
        if base.upper() == "L":
            last = True
        elif "#" in base:
            day, _, week = base.partition("#")
            nth.append((schedules._value(day, low, high, names) % 7, int(week)))
        else:
            if base in ("*", "?"):
                first, final = low, high
            else:
                begin, dash, finish = base.partition("-")
                first = schedules._value(begin, low, high, names)
                final = schedules._value(finish, low, high, names) if dash else (high if slash else first)
            values.update(range(first, final + 1, int(step) if slash else 1))
    return values, last, nth


def _cron(expression: str, start: datetime, end: datetime) -> Iterator[datetime]:
    texts = expression.split()
    fields = [_field(text, low, high, names) for text, (_, low, high, names) in zip(texts, schedules._FIELDS,
                                                                                       strict=True)]
    (minutes, _, _), (hours, _, _), (days, last_day, _), (months, _, _), (weekdays, _, nth) = fields
    weekdays = {day % 7 for day in weekdays}  # 7 is Sunday too
    restricted = [text not in ("*", "?") for text in texts[2:5:2]]  # day-of-month, day-of-week

    def day_matches(day: datetime) -> bool:
        length = calendar.monthrange(day.year, day.month)[1]
        by_month = day.day in days or (last_day and day.day == length)
        weekday = (day.weekday() + 1) % 7  # cron: 0 is Sunday
        by_week = weekday in weekdays or (weekday, (day.day - 1) // 7 + 1) in nth
        if all(restricted):
            return by_month or by_week
        return by_month if restricted[0] else by_week if restricted[1] else True

    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end:
        if day.month in months and day_matches(day):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    moment = day.replace(hour=hour, minute=minute)
                    if start <= moment <= end:
                        yield moment
        day += timedelta(days=1)
