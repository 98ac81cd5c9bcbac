"""Runtimes, ids and schedules: their one home, used by run, the executor and the DAG renderers."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from bigflow import ids, runtimes, schedules
from bigflow.errors import InvalidValueError, InvalidWorkflowError, UsageError
from bigflow.executor import run_workflow
from bigflow.jobs import PythonJob
from bigflow.workflow import Workflow


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-05", datetime(2026, 1, 5)),
    ("2026-01-05 07:08", datetime(2026, 1, 5, 7, 8)),
    ("2026-01-05T07:08:09", datetime(2026, 1, 5, 7, 8, 9)),
    ("2026-01-05T07:08:09+02:00", datetime(2026, 1, 5, 5, 8, 9)),
    ("0001-01-01", datetime(1, 1, 1)),
])
def test_parse(text, expected):
    assert runtimes.parse(text) == expected


def test_parse_dates_aware_datetimes_and_the_default():
    assert runtimes.parse(date(2026, 1, 5)) == datetime(2026, 1, 5)
    assert runtimes.parse(datetime(2026, 1, 5, 1, tzinfo=timezone(timedelta(hours=1)))) == datetime(2026, 1, 5)
    assert runtimes.parse(None).microsecond == 0


@pytest.mark.parametrize(("text", "message"), [
    ("9999-12-31T23:00:00-05:00", "--runtime is '9999-12-31T23:00:00-05:00', out of range: in UTC it falls outside "
                                  "years 0001-9999"),
    ("0001-01-01T00:00:00+01:00", "--runtime is '0001-01-01T00:00:00+01:00', out of range"),
    ("2026-13-01", "--runtime is '2026-13-01', not a time: expected 'YYYY-MM-DD'"),
])
def test_bad_runtimes_are_one_line_value_errors(text, message):
    with pytest.raises(InvalidValueError, match=f"^{re.escape(message)}") as error:
        runtimes.parse(text, "--runtime")
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_format_has_four_digit_years_and_runtime_str_keeps_1x_forms():
    assert runtimes.format(datetime(1, 1, 1)) == "0001-01-01 00:00:00"
    assert runtimes.runtime_str("2026-01-05") == "2026-01-05"
    assert runtimes.runtime_str(" 2026-01-05 07:08:09 ") == "2026-01-05 07:08:09"
    assert runtimes.runtime_str("2026-01-05T07:08:09+02:00") == "2026-01-05 05:08:09"
    assert runtimes.runtime_str(datetime(1, 1, 1)) == "0001-01-01 00:00:00"


def test_the_executor_keeps_the_users_runtime_form():
    seen = []
    workflow = Workflow("wf", [PythonJob("j", lambda context: seen.append(context.runtime_str))])
    assert run_workflow(workflow, runtime="2026-01-05").ok and run_workflow(workflow, runtime="0001-01-01").ok
    assert seen == ["2026-01-05", "0001-01-01"]


def test_job_refs_split_at_the_last_dot():
    assert ids.split_job("sales.daily.load") == ("sales.daily", "load")
    with pytest.raises(UsageError, match="--job expects WORKFLOW_ID.JOB_ID, got 'load'"):
        ids.split_job("load")
    assert ids.check_workflow_id("sales.daily") == "sales.daily"
    with pytest.raises(InvalidWorkflowError, match="invalid job id 'a.b'"):
        ids.check_job_id("a.b")
    with pytest.raises(InvalidWorkflowError, match="job id 'bigflow-image' is reserved"):
        ids.check_job_id("bigflow-image")


def test_presets_become_cron_expressions():
    assert schedules.parse("@midnight") == schedules.Schedule("cron", "0 0 * * *", "@midnight")
    assert schedules.parse("@annually").value == "0 0 1 1 *"
    assert schedules.parse(" 0  3 * * * ").value == "0 3 * * *"
    assert schedules.parse(timedelta(hours=6)) == schedules.Schedule("delta", 21600, "6:00:00")
    assert schedules.parse("@continuous").kind == "continuous" and schedules.parse(None).kind == "none"
