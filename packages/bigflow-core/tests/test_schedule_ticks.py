"""The runtimes a schedule gives within a range (``bigflow run --from --to``), checked against Airflow's croniter."""

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bigflow.errors import BigflowError
from bigflow.schedule_ticks import MAX_TICKS, ticks

CRONITER_PYTHON = Path(os.environ.get("BIGFLOW_CACHE", "/var/cache/bigflow-ci"), "airflow2", "bin", "python")
EXPRESSIONS = ["@daily", "@hourly", "@weekly", "@monthly", "@quarterly", "0 1 * * *", "30 */12 L * *",
               "0 0 * * MON#1", "0 0 1 * 0", "15 6,18 1-7 * MON-FRI", "*/20 3 * JAN,JUL *", "0 0 29 2 *"]
START, END = datetime(2023, 12, 20), datetime(2024, 8, 10, 12)


def croniter_ticks(expression: str) -> list[str]:
    """The same range by croniter (the scheduler's library), in the Airflow 2 venv scripts/setup builds."""
    code = ("import croniter, datetime, json, sys\n"
            "start, end = (datetime.datetime.fromisoformat(a) for a in sys.argv[2:4])\n"
            "it, out = croniter.croniter(sys.argv[1], start - datetime.timedelta(seconds=1)), []\n"
            "while (t := it.get_next(datetime.datetime)) <= end: out.append(t.isoformat(' '))\n"
            "print(json.dumps(out))\n")
    expression = {"@daily": "0 0 * * *", "@hourly": "0 * * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
                  "@quarterly": "0 0 1 */3 *"}.get(expression, expression)
    done = subprocess.run([str(CRONITER_PYTHON), "-c", code, expression, START.isoformat(), END.isoformat()],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_cron_runtimes_are_those_croniter_gives(expression):
    assert [t.isoformat(" ") for t in ticks(expression, START, END)] == croniter_ticks(expression)


def test_both_ends_are_included_and_a_timedelta_steps_from_the_start():
    assert ticks("@daily", datetime(2024, 1, 1), datetime(2024, 1, 3)) == [datetime(2024, 1, d) for d in (1, 2, 3)]
    assert ticks(timedelta(hours=8), datetime(2024, 1, 1), datetime(2024, 1, 2)) == [
        datetime(2024, 1, 1), datetime(2024, 1, 1, 8), datetime(2024, 1, 1, 16), datetime(2024, 1, 2)]


@pytest.mark.parametrize(("schedule", "message"), [
    (None, "workflow 'wf' has no schedule to backfill (schedule_interval None); run it with --runtime instead"),
    ("@once", "workflow 'wf' has no schedule to backfill (schedule_interval @once); run it with --runtime instead"),
    ("* * * * *", f"the range holds more than {MAX_TICKS} runtimes of workflow 'wf' (* * * * *); backfill a "
                  "shorter range at a time"),
])
def test_what_cannot_be_backfilled_is_a_one_line_error(schedule, message):
    with pytest.raises(BigflowError) as raised:
        ticks(schedule, datetime(2024, 1, 1), datetime(2024, 2, 1), "wf")
    assert str(raised.value) == message
