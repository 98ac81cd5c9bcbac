"""Isolated runs (``bigflow run``): attempts in worker processes that are really stopped, with what they started.

Real processes throughout: jobs start ``sleep 1000`` and thread pools, and the tests look at the process
table afterwards. Workers are forked from the pytest process, so jobs are plain functions of this module.
"""

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from bigflow.attempts import RemoteJobError
from bigflow.executor import CANCELLED, FAILED, SUCCESS, TIMEOUT, RetryPolicy, run_workflow
from bigflow.jobs import PythonJob
from bigflow.workflow import Workflow

RUNTIME = datetime(2024, 1, 2)
HERE = "packages/bigflow-core/tests/test_workers.py"


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def start_sleep(directory: Path, name: str) -> int:
    """Start ``sleep 1000`` (not waited for) and note its pid in ``directory/name``."""
    child = subprocess.Popen(["sleep", "1000"])
    (directory / name).write_text(str(child.pid))
    return child.pid


def run(*jobs, **options):
    return run_workflow(Workflow("wf", list(jobs)), runtime=RUNTIME, isolate=True, **options)


@pytest.fixture
def pids(tmp_path):
    """Pids the jobs wrote; every one is killed at teardown, so a failing test leaves nothing behind."""
    yield tmp_path
    for path in tmp_path.glob("*.pid"):
        if alive(pid := int(path.read_text())):
            os.kill(pid, 9)


def test_a_timed_out_job_is_stopped_with_its_threads_and_child_processes(pids):
    heartbeat = pids / "heartbeat"

    def busy(context):
        start_sleep(pids, "sleep.pid")
        (pids / "worker.pid").write_text(str(os.getpid()))
        pool = ThreadPoolExecutor(2)

        def beat():
            while True:
                with heartbeat.open("a") as out:
                    out.write(".")
                time.sleep(0.02)

        return [pool.submit(beat) for _ in range(2)][0].result()

    started = time.monotonic()
    report = run(PythonJob("busy", busy, execution_timeout_sec=1), PythonJob("after", lambda c: "ran"))

    assert report["busy"].state == TIMEOUT and report["after"].state == "upstream_failed"
    assert time.monotonic() - started < 30  # a hang guard, not a speed check (bench/ measures speed)
    assert gone(int((pids / "sleep.pid").read_text())) and gone(int((pids / "worker.pid").read_text()))
    size = heartbeat.stat().st_size
    time.sleep(0.2)
    assert heartbeat.stat().st_size == size  # no thread of the job writes any more


def test_what_a_successful_job_started_does_not_outlive_the_run(pids):
    report = run(PythonJob("starts", lambda c: start_sleep(pids, "sleep.pid")), PythonJob("next", lambda c: 1))
    assert report.ok and report["starts"].value == int((pids / "sleep.pid").read_text())
    assert gone(report["starts"].value)


def test_a_retry_starts_in_a_fresh_process_after_the_failed_attempt_was_stopped(pids):
    seen = pids / "seen"

    def flaky(context):
        previous = pids / "sleep.pid"
        if previous.exists():
            seen.write_text("alive" if alive(int(previous.read_text())) else "gone")
            return "second"
        start_sleep(pids, "sleep.pid")
        raise ConnectionError("first attempt fails")

    pauses = []
    report = run(PythonJob("flaky", flaky, retry_count=1, retry_pause_sec=30),
                 retry=RetryPolicy(sleep=pauses.append))
    assert report.ok and report["flaky"].attempts == 2 and report["flaky"].value == "second"
    assert seen.read_text() == "gone" and pauses == [30]


def test_parallel_jobs_each_stopped_on_their_own(pids):
    def hang(context):
        start_sleep(pids, "hang.pid")
        time.sleep(1000)

    def work(context):
        time.sleep(0.5)
        return os.getpid()

    report = run_workflow(Workflow("wf", {PythonJob("hang", hang, execution_timeout_sec=1): [],
                                          PythonJob("work", work): []}),
                          runtime=RUNTIME, isolate=True, jobs=2)
    assert report["hang"].state == TIMEOUT and report["work"].state == SUCCESS
    assert report["work"].value != os.getpid()  # it ran in a worker process
    assert gone(int((pids / "hang.pid").read_text()))


class NeedsTwoArguments(Exception):
    def __init__(self, table, row):
        super().__init__(f"bad row {row} in {table}")


class HoldsALock(Exception):
    def __init__(self):
        super().__init__("cannot pickle me")
        self.lock = threading.Lock()


def raise_(error):
    def action(context):
        raise error

    return action


RAISE_AT = f"{HERE}:{raise_.__code__.co_firstlineno + 2}"


@pytest.mark.parametrize(("error", "expected_type", "line"), [
    (KeyError("customer_id"), KeyError, "KeyError: 'customer_id'"),
    (NeedsTwoArguments("orders", 7), RemoteJobError, "NeedsTwoArguments: bad row 7 in orders"),  # unpickling fails
    (HoldsALock(), RemoteJobError, "HoldsALock: cannot pickle me"),  # pickling fails
])
def test_errors_cross_the_process_boundary_with_type_message_and_place(error, expected_type, line):
    result = run(PythonJob("j", raise_(error), retry_count=0))["j"]
    assert result.state == FAILED and type(result.error) is expected_type
    assert result.error_line == f"{line} (at {RAISE_AT})"
    assert result.traceback.startswith("Traceback (most recent call last):") and line in result.traceback


def test_values_that_cannot_be_pickled_come_back_as_none():
    report = run(PythonJob("a", lambda c: {"rows": 3}), PythonJob("b", lambda c: threading.Lock()))
    assert report.ok and report["a"].value == {"rows": 3} and report["b"].value is None


def test_a_worker_that_dies_is_a_failed_attempt_naming_how():
    def die(context):
        os.kill(os.getpid(), 9)

    result = run(PythonJob("j", die, retry_count=0), PythonJob("k", lambda c: 1))["j"]
    assert result.state == FAILED and result.error_line == "the job's process was killed by SIGKILL (out of memory?)"


def test_keyboard_interrupt_in_a_job_cancels_the_run(pids):
    def interrupt(context):
        start_sleep(pids, "sleep.pid")
        raise KeyboardInterrupt

    report = run(PythonJob("j", interrupt), PythonJob("k", lambda c: 1))
    assert report.interrupted and report["j"].state == CANCELLED and report["k"].state == "skipped"
    assert gone(int((pids / "sleep.pid").read_text()))
