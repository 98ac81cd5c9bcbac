"""The local executor: ordering, parallel branches, failures, retries, timeouts, interrupts and hooks."""

import logging
import os
import signal
import threading
import time
from datetime import datetime

import pytest

from bigflow import log
from bigflow.errors import BigflowError
from bigflow.executor import (
    CANCELLED,
    FAILED,
    SKIPPED,
    SUCCESS,
    TIMEOUT,
    UPSTREAM_FAILED,
    RetryPolicy,
    RunReport,
    run_workflow,
)
from bigflow.workflow import Definition, Workflow

RUNTIME = datetime(2024, 1, 2, 3, 4, 5)


class Step:
    """A duck-typed job running ``action(context)``; no retries unless asked."""

    def __init__(self, id, action=None, retry_count=0, retry_pause_sec=0, execution_timeout_sec=None):
        self.id = id
        self.action = action or (lambda context: None)
        self.retry_count = retry_count
        self.retry_pause_sec = retry_pause_sec
        self.execution_timeout_sec = execution_timeout_sec
        self.attempts = 0

    def execute(self, context):
        self.attempts += 1
        return self.action(context)

    def __repr__(self):
        return f"Step({self.id!r})"


def fail(message):
    def action(context):
        raise RuntimeError(message)

    return action


FAIL_AT = f"packages/bigflow-core/tests/test_executor.py:{fail.__code__.co_firstlineno + 2}"  # the raise


def states(report):
    return {result.job_id: result.state for result in report.results}


@pytest.fixture
def release():
    """An event set at teardown, so jobs blocked on it end even when a test fails."""
    event = threading.Event()
    yield event
    event.set()


def test_jobs_run_in_topological_order_with_context(monkeypatch):
    monkeypatch.delenv("bf_env", raising=False)
    order = []
    a, b, c = (Step(name, lambda context, name=name: order.append((name, context))) for name in "abc")
    workflow = Workflow("wf", Definition({a: [c], b: [c]}))

    report = run_workflow(workflow, runtime=RUNTIME, env="dev", config={"k": "v"}, run_id="run-1")

    assert [name for name, _ in order] == ["a", "b", "c"]
    context = order[0][1]
    assert (context.runtime, context.env, context.run_id, context.workflow) == (RUNTIME, "dev", "run-1", workflow)
    assert context.config == {"k": "v"}
    assert isinstance(report, RunReport) and report.ok
    assert (report.workflow_id, report.run_id, report.runtime, report.env) == ("wf", "run-1", RUNTIME, "dev")
    assert [r.job_id for r in report.results] == ["a", "b", "c"]
    assert all(r.attempts == 1 and r.error is None and r.duration >= 0 for r in report.results)


def test_result_value_and_lookup():
    report = run_workflow(Workflow("wf", [Step("a", lambda context: 42)]), runtime=RUNTIME)
    assert report["a"].value == 42 and report["a"].state == SUCCESS
    with pytest.raises(KeyError):
        report["missing"]


def test_independent_branches_overlap_with_two_workers():
    barrier = threading.Barrier(2, timeout=5)
    left, right = Step("left", lambda c: barrier.wait()), Step("right", lambda c: barrier.wait())
    join = Step("join")
    workflow = Workflow("wf", {left: [join], right: [join]})

    report = run_workflow(workflow, runtime=RUNTIME, jobs=2)

    assert states(report) == {"left": SUCCESS, "right": SUCCESS, "join": SUCCESS}


def test_jobs_limits_parallelism():
    barrier = threading.Barrier(3, timeout=0.3)
    steps = [Step(f"s{i}", lambda c: barrier.wait()) for i in range(3)]
    workflow = Workflow("wf", {step: [] for step in steps})

    report = run_workflow(workflow, runtime=RUNTIME, jobs=2)

    assert not report.ok  # three jobs never ran at once
    assert {type(r.error).__name__ for r in report.results} == {"BrokenBarrierError"}


def test_failure_stops_dependents_but_not_siblings():
    a, b, c, d, e = Step("a"), Step("b", fail("boom\nsecond line")), Step("c"), Step("d"), Step("e")
    workflow = Workflow("wf", {a: [b, d], b: [c], c: [e], d: []})

    report = run_workflow(workflow, runtime=RUNTIME, jobs=1)

    assert states(report) == {"a": SUCCESS, "b": FAILED, "d": SUCCESS, "c": UPSTREAM_FAILED, "e": UPSTREAM_FAILED}
    assert c.attempts == 0 and d.attempts == 1
    assert not report.ok
    assert isinstance(report["b"].error, RuntimeError) and report["b"].error_line == f"RuntimeError: boom (at {FAIL_AT})"
    error = report.failure()
    assert isinstance(error, BigflowError) and error.exit_code == 1
    assert str(error) == f"3 of 5 job(s) of 'wf' did not succeed; first: b failed: RuntimeError: boom (at {FAIL_AT})"
    with pytest.raises(RuntimeError, match="boom"):
        report.raise_for_failure()


def test_join_waits_for_all_upstream_jobs_and_fails_if_one_fails():
    left, right, join = Step("left", fail("x")), Step("right"), Step("join")
    report = run_workflow(Workflow("wf", {left: [join], right: [join]}), runtime=RUNTIME, jobs=2)
    assert states(report) == {"left": FAILED, "right": SUCCESS, "join": UPSTREAM_FAILED}


def test_retries_count_attempts_and_pause_between_them():
    calls = []
    flaky = Step("flaky", lambda c: calls.append(1) if len(calls) >= 2 else calls.append(0) or fail("t")(c),
                 retry_count=3, retry_pause_sec=7)
    pauses = []

    report = run_workflow(Workflow("wf", [flaky]), runtime=RUNTIME, retry=RetryPolicy(sleep=pauses.append))

    assert report.ok and report["flaky"].attempts == 3 and pauses == [7, 7]


def test_retries_exhausted():
    pauses = []
    job = Step("bad", fail("nope"), retry_count=2, retry_pause_sec=1)
    report = run_workflow(Workflow("wf", [job]), runtime=RUNTIME, retry=RetryPolicy(sleep=pauses.append))
    assert report["bad"].state == FAILED and report["bad"].attempts == 3 and job.attempts == 3
    assert pauses == [1, 1]


def test_an_error_marked_not_retryable_ends_the_job_at_once():
    class InvalidSql(Exception):
        retryable = False

    def raise_invalid(context):
        raise InvalidSql("Syntax error at line 1")

    pauses = []
    job = Step("query", raise_invalid, retry_count=3, retry_pause_sec=1)
    report = run_workflow(Workflow("wf", [job]), runtime=RUNTIME, retry=RetryPolicy(sleep=pauses.append))
    assert report["query"].state == FAILED and report["query"].attempts == 1 and pauses == []


def test_duck_typed_job_without_settings_gets_three_retries():
    class Bare:
        id = "bare"

        def execute(self, context):
            raise ValueError("always")

    pauses = []
    report = run_workflow(Workflow("wf", [Bare()]), runtime=RUNTIME, retry=RetryPolicy(sleep=pauses.append))
    assert report["bare"].attempts == 4 and pauses == [60, 60, 60]


def test_timeout_marks_the_job_and_does_not_wait_for_it(release):
    slow = Step("slow", lambda c: release.wait(30), execution_timeout_sec=0.2)
    after = Step("after")
    sibling = Step("sibling", execution_timeout_sec=3)  # runs on the worker that replaces the abandoned one
    workflow = Workflow("wf", {slow: [after], sibling: []})
    started = time.monotonic()

    report = run_workflow(workflow, runtime=RUNTIME, jobs=1)

    assert time.monotonic() - started < 5
    assert states(report) == {"slow": TIMEOUT, "sibling": SUCCESS, "after": UPSTREAM_FAILED}
    assert isinstance(report["slow"].error, TimeoutError)
    assert report["slow"].error_line == "TimeoutError: job 'slow' did not finish within execution_timeout_sec=0.2"
    assert report["slow"].attempts == 1  # a timed-out attempt is not retried


def test_timed_out_job_finishing_later_is_not_reported(release):
    calls = []

    class Hooks:
        def after_job(self, job, context, result):
            calls.append(("after_job", job.id))

    finished = threading.Event()
    slow = Step("slow", lambda c: (release.wait(30), finished.set()), execution_timeout_sec=0.1)
    report = run_workflow(Workflow("wf", [slow, Step("next")]), runtime=RUNTIME, hooks=Hooks())
    release.set()
    assert finished.wait(5)
    time.sleep(0.1)
    assert report["slow"].state == TIMEOUT and calls == []


def test_keyboard_interrupt_from_a_job_cancels_the_run(release):
    def interrupt(context):
        raise KeyboardInterrupt

    blocked = Step("blocked", lambda c: release.wait(30))
    stopper, after = Step("stopper", interrupt), Step("after")
    workflow = Workflow("wf", {blocked: [], stopper: [after]})

    report = run_workflow(workflow, runtime=RUNTIME, jobs=2)

    assert report.interrupted and not report.ok
    assert states(report) == {"blocked": CANCELLED, "stopper": CANCELLED, "after": SKIPPED}
    assert after.attempts == 0
    assert report.failure().exit_code == 130
    with pytest.raises(KeyboardInterrupt):
        report.raise_for_failure()


def test_keyboard_interrupt_stops_a_sequential_run():
    first, after = Step("first"), Step("after")
    stopper = Step("stopper", lambda c: (_ for _ in ()).throw(KeyboardInterrupt))
    report = run_workflow(Workflow("wf", [first, stopper, after]), runtime=RUNTIME)
    assert states(report) == {"first": SUCCESS, "stopper": CANCELLED, "after": SKIPPED}
    assert report.interrupted


def test_ctrl_c_in_the_main_thread_cancels_running_jobs(release):
    def press_ctrl_c(context):
        os.kill(os.getpid(), signal.SIGINT)
        release.wait(30)

    report = run_workflow(Workflow("wf", [Step("running", press_ctrl_c), Step("never")]), runtime=RUNTIME)

    assert report.interrupted
    assert states(report) == {"running": CANCELLED, "never": SKIPPED}


def test_retry_pause_ends_when_the_run_is_interrupted(release):
    """A pause holds no worker: after Ctrl-C the pausing job is cancelled at once, without another attempt."""
    flaky = Step("flaky", fail("again"), retry_count=5, retry_pause_sec=60)
    stopper = Step("stopper", lambda c: (release.wait(0.2), os.kill(os.getpid(), signal.SIGINT), release.wait(30)))
    started = time.monotonic()

    report = run_workflow(Workflow("wf", {flaky: [], stopper: []}), runtime=RUNTIME, jobs=2)

    assert time.monotonic() - started < 30  # a hang guard: the 60 s pause did not run out
    assert report.interrupted and report["flaky"].state == CANCELLED and report["flaky"].attempts == 1
    assert flaky.attempts == 1


class RecordingHooks:
    def __init__(self):
        self.calls = []

    def before_workflow(self, workflow, context):
        self.calls.append(("before_workflow", workflow.workflow_id, context.run_id))

    def after_workflow(self, workflow, context, report):
        self.calls.append(("after_workflow", workflow.workflow_id, report.ok))

    def before_job(self, job, context):
        self.calls.append(("before_job", job.id, context.run_id))

    def after_job(self, job, context, result):
        self.calls.append(("after_job", job.id, result))

    def on_job_error(self, job, context, error):
        self.calls.append(("on_job_error", job.id, str(error)))


def test_hooks_are_called_in_order():
    tries = []
    a = Step("a", lambda c: "A")
    b = Step("b", lambda c: tries.append(1) or ("B" if len(tries) > 1 else fail("first try")(c)), retry_count=1)
    hooks = RecordingHooks()

    report = run_workflow(Workflow("wf", [a, b]), runtime=RUNTIME, run_id="r", hooks=hooks)

    assert report.ok
    assert hooks.calls == [
        ("before_workflow", "wf", "r"),
        ("before_job", "a", "r"), ("after_job", "a", "A"),
        ("before_job", "b", "r"), ("on_job_error", "b", "first try"), ("before_job", "b", "r"), ("after_job", "b", "B"),
        ("after_workflow", "wf", True),
    ]


def test_timeout_calls_on_job_error_with_a_timeout_error(release):
    hooks = RecordingHooks()
    run_workflow(Workflow("wf", [Step("slow", lambda c: release.wait(30), execution_timeout_sec=0.1)]),
                 runtime=RUNTIME, hooks=hooks)
    assert hooks.calls[-2] == ("on_job_error", "slow", "job 'slow' did not finish within execution_timeout_sec=0.1")


def test_hooks_object_may_implement_only_some_hooks():
    seen = []

    class OnlyAfterWorkflow:
        def after_workflow(self, workflow, context, report):
            seen.append(report.ok)

    run_workflow(Workflow("wf", [Step("a")]), runtime=RUNTIME, hooks=OnlyAfterWorkflow())
    assert seen == [True]


def test_failing_job_hook_fails_the_attempt():
    class BrokenHook:
        def before_job(self, job, context):
            raise LookupError("plugin broke")

    job = Step("a")
    report = run_workflow(Workflow("wf", [job]), runtime=RUNTIME, hooks=BrokenHook())
    assert report["a"].state == FAILED and report["a"].error_line.startswith("LookupError: plugin broke (at ")
    assert job.attempts == 0


def test_only_job_runs_one_job_without_its_dependencies():
    a, b, c = Step("a"), Step("b"), Step("c")
    report = run_workflow(Workflow("wf", [a, b, c]), runtime=RUNTIME, only_job="b")
    assert states(report) == {"b": SUCCESS} and (a.attempts, b.attempts, c.attempts) == (0, 1, 0)
    with pytest.raises(BigflowError, match=r"^unknown job 'bb' in workflow 'wf'; did you mean 'b'\?$"):
        run_workflow(Workflow("wf", [Step("a"), Step("b")]), runtime=RUNTIME, only_job="bb")


@pytest.mark.parametrize("jobs", [0, -1, True, 1.5])
def test_invalid_jobs_count(jobs):
    with pytest.raises(BigflowError, match=rf"^jobs must be an integer >= 1, got {jobs!r}$"):
        run_workflow(Workflow("wf", [Step("a")]), runtime=RUNTIME, jobs=jobs)


def test_logs_carry_run_fields(caplog):
    inside = []
    job = Step("a", lambda c: inside.append(log.bound()))
    with caplog.at_level(logging.INFO, logger="bigflow.executor"):
        report = run_workflow(Workflow("wf", [job]), runtime=RUNTIME, env="dev", run_id="r9")
    assert report.ok
    records = [r for r in caplog.records if getattr(r, "job_id", None) == "a"]
    assert records and all((r.workflow_id, r.run_id) == ("wf", "r9") for r in records)
    assert inside[0]["job_id"] == "a" and inside[0]["workflow_id"] == "wf" and inside[0]["env"] == "dev"
