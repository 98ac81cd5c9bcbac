"""The local executor: runs a workflow's job graph, honouring dependencies, retries, timeouts.

- Independent branches run in parallel, up to ``jobs`` at once; with ``jobs=1`` jobs run one at a time in
  topological order.
- Where attempts run (see :mod:`bigflow.workers`): ``isolate=True`` (``bigflow run``) runs each attempt in a
  worker process of its own process group, so a job that times out, fails or is cancelled is really stopped
  with every thread and process it started, and nothing a job started outlives the run. ``isolate=False``
  (``Workflow.run``, tests: in-memory effects and mocks stay visible) runs attempts in threads of this
  process; a thread cannot be killed, so a timed-out job may keep running in the background until it
  returns or the process exits.
- A job that fails stops its dependents (``upstream_failed``), never its independent siblings.
- ``retry_count`` retries mean up to ``retry_count + 1`` attempts, ``retry_pause_sec`` apart (1.x ignored
  both locally); each retry is announced with its pause. An exception raised by a job hook counts as a
  failure of that attempt. An exception with ``retryable = False`` (e.g. invalid SQL) is not retried.
- ``execution_timeout_sec`` limits each attempt; a job still running at its deadline is reported
  ``timeout`` (and not retried), and the run goes on without waiting for it.
- Ctrl-C (or a job raising ``KeyboardInterrupt``): no new job starts, running jobs are reported
  ``cancelled`` (stopped when isolated), jobs that never started ``skipped``, and the report comes back with
  ``interrupted=True``.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bigflow import log, runtimes
from bigflow.attempts import FAILED, INTERRUPTED, SUCCESS, Outcome, error_line, run_attempt
from bigflow.errors import BigflowError
from bigflow.workers import ProcessWorkers, ThreadWorkers, can_isolate
from bigflow.workflow import JobContext, JobSettings, Workflow, job_settings

if TYPE_CHECKING:
    from bigflow.configuration import Config

logger = logging.getLogger("bigflow.executor")

TIMEOUT, UPSTREAM_FAILED, CANCELLED, SKIPPED = "timeout", "upstream_failed", "cancelled", "skipped"
STATES = (SUCCESS, FAILED, TIMEOUT, UPSTREAM_FAILED, CANCELLED, SKIPPED)
HOOKS = ("before_workflow", "after_workflow", "before_job", "after_job", "on_job_error")
_POLL_SEC = 1.0  # longest uninterrupted wait of the main thread, so Ctrl-C is seen on every platform
__all__ = ["STATES", "HOOKS", "JobResult", "RunReport", "error_line", "run_workflow"]


@dataclass(slots=True)
class JobResult:
    """The outcome of one job: ``state`` is one of ``STATES``; ``duration`` in seconds (retry pauses included).

    ``where`` is the file and line of the user's code that raised ``error``, ``traceback`` its traceback.
    From an isolated run, ``value`` is None when the job's return value cannot be pickled.
    """

    job_id: str
    state: str = SKIPPED
    attempts: int = 0
    duration: float = 0.0
    error: BaseException | None = None
    value: Any = None  # what execute() returned
    where: str = ""
    traceback: str = ""

    @property
    def error_line(self) -> str:
        """The error as one line, ``Type: message (at file:line)`` ('' without error)."""
        line = error_line(self.error)
        return f"{line} (at {self.where})" if line and self.where else line


@dataclass
class RunReport:
    """The outcome of a workflow run: one ``JobResult`` per job run (topological order)."""

    workflow_id: str
    run_id: str
    runtime: datetime
    env: str | None
    results: list[JobResult] = field(default_factory=list)
    interrupted: bool = False
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True only when every job succeeded."""
        return not self.interrupted and all(result.state == SUCCESS for result in self.results)

    def __getitem__(self, job_id: str) -> JobResult:
        for result in self.results:
            if result.job_id == job_id:
                return result
        raise KeyError(job_id)

    def failure(self) -> BigflowError:
        """A one-line error naming the first job that did not succeed (exit code 130 when interrupted)."""
        failed = [result for result in self.results if result.state != SUCCESS]
        first = failed[0]
        detail = f": {first.error_line}" if first.error_line else ""
        return BigflowError(f"{len(failed)} of {len(self.results)} job(s) of {self.workflow_id!r} did not "
                            f"succeed; first: {first.job_id} {first.state}{detail}",
                            exit_code=130 if self.interrupted else 1)

    def raise_for_failure(self) -> RunReport:
        """This report when ok; else re-raise KeyboardInterrupt, the first job error, or ``failure()``."""
        if self.ok:
            return self
        if self.interrupted:
            raise KeyboardInterrupt
        first = next(result for result in self.results if result.state != SUCCESS)
        raise first.error or self.failure()


class _Task:
    """A job of the run while it holds a slot: running an attempt, or pausing before the next one."""

    __slots__ = ("job", "job_id", "settings", "attempts", "started", "deadline", "resume_at")

    def __init__(self, job: Any, job_id: str, settings: JobSettings) -> None:
        self.job, self.job_id, self.settings = job, job_id, settings
        self.attempts = 0
        self.started = time.monotonic()
        self.deadline = math.inf  # of the running attempt
        self.resume_at = math.inf  # of the pause before the next attempt


@dataclass
class RetryPolicy:
    """How retries are made: ``enabled`` (else one attempt); ``pause`` replaces every job's retry_pause_sec,
    ``max_pause`` caps it; ``hint`` ends each "retrying" line (e.g. how to stop); ``sleep``, when given, is
    called with each pause instead of waiting (tests)."""

    enabled: bool = True
    pause: float | None = None
    max_pause: float | None = None
    hint: str = ""
    sleep: Callable[[float], Any] | None = None

    def pause_of(self, job_pause: float) -> float:
        pause = job_pause if self.pause is None else self.pause
        return pause if self.max_pause is None else min(pause, self.max_pause)


class _Run:
    def __init__(self, workflow: Workflow, context: JobContext, job_ids: list[str], jobs: int, hooks: Any,
                 retry: RetryPolicy, isolate: bool) -> None:
        self.workflow, self.context, self.jobs, self.retry = workflow, context, jobs, retry
        self.hooks = {name: getattr(hooks, name, None) for name in HOOKS} if hooks is not None else {}
        self.extra = {"workflow_id": workflow.workflow_id, "run_id": context.run_id,
                      "runtime": context.runtime_str, "env": context.env}
        self.fields = {**log.bound(), **self.extra}
        self.results = {job_id: JobResult(job_id) for job_id in job_ids}
        self.position = {job_id: index for index, job_id in enumerate(job_ids)}
        self.downstream = {job_id: [d for d in workflow.graph.downstream_ids[job_id] if d in self.results]
                           for job_id in job_ids}
        self.waiting = {job_id: sum(u in self.results for u in workflow.graph.upstream_ids[job_id])
                        for job_id in job_ids}
        self.running: dict[str, _Task] = {}
        self.workers: ProcessWorkers | ThreadWorkers = (
            ProcessWorkers(self.attempt) if isolate and can_isolate() else ThreadWorkers(self.attempt, min(jobs, len(job_ids))))

    def hook(self, name: str, **arguments: Any) -> None:
        function = self.hooks.get(name)
        if function is not None:
            function(**arguments)

    def attempt(self, job_id: str, abandoned: Callable[[], bool] = lambda: False) -> Outcome:
        """One attempt of the job, in its worker thread or process."""
        with log.bind(**self.fields, job_id=job_id):
            return run_attempt(self.workflow.graph.by_id[job_id], self.context, self.hook, abandoned)

    def execute(self) -> bool:
        """Run the jobs; True when interrupted."""
        ready = [self.position[job_id] for job_id, count in self.waiting.items() if count == 0]
        heapq.heapify(ready)
        job_ids = list(self.results)
        try:
            while ready or self.running:
                while ready and len(self.running) < self.jobs:
                    job_id = job_ids[heapq.heappop(ready)]
                    job = self.workflow.graph.by_id[job_id]
                    self.running[job_id] = task = _Task(job, job_id, job_settings(job))
                    self.begin(task)
                self.step(ready)
            return False
        except KeyboardInterrupt:
            self.cancel()
            return True
        finally:
            self.workers.close()

    def begin(self, task: _Task) -> None:
        """Start the task's next attempt."""
        task.attempts += 1
        task.deadline, task.resume_at = time.monotonic() + task.settings.execution_timeout_sec, math.inf
        logger.info("job %s started (attempt %d of %d)", task.job_id, task.attempts, self.tries(task),
                    extra={**self.extra, "job_id": task.job_id})
        self.workers.start(task.job_id)

    def tries(self, task: _Task) -> int:
        return task.settings.retry_count + 1 if self.retry.enabled else 1

    def step(self, ready: list[int]) -> None:
        """Handle the next finished attempt, or the pauses and timeouts that are due."""
        now = time.monotonic()
        for task in [task for task in self.running.values() if task.resume_at <= now]:
            self.begin(task)
        wake = min([task.deadline for task in self.running.values()]
                   + [task.resume_at for task in self.running.values()])
        finished = self.workers.wait(min(max(wake - now, 0), _POLL_SEC))
        if finished is None:
            self.expire()
            return
        job_id, outcome = finished
        task = self.running[job_id]
        if outcome.state == INTERRUPTED:
            self.record(task, CANCELLED, outcome)
            raise KeyboardInterrupt
        if outcome.state == SUCCESS:
            self.record(task, SUCCESS, outcome)
            for target in self.downstream[job_id]:
                self.waiting[target] -= 1
                if self.waiting[target] == 0 and self.results[target].state == SKIPPED:
                    heapq.heappush(ready, self.position[target])
        elif task.attempts < self.tries(task) and outcome.retryable:
            self.pause(task, outcome)
        else:
            self.record(task, FAILED, outcome)
            self.block_dependents(job_id)

    def pause(self, task: _Task, outcome: Outcome) -> None:
        """Announce the retry of a failed attempt and schedule it after the pause."""
        extra = {**self.extra, "job_id": task.job_id}
        where = f" (at {outcome.where})" if outcome.where else ""
        pause = self.retry.pause_of(task.settings.retry_pause_sec)
        logger.warning("job %s attempt %d of %d failed: %s%s", task.job_id, task.attempts, self.tries(task),
                       error_line(outcome.error), where, extra=extra)
        logger.warning("retrying job %s in %g s (attempt %d/%d%s)", task.job_id, pause, task.attempts + 1,
                       self.tries(task), self.retry.hint, extra=extra)
        task.deadline, task.resume_at = math.inf, time.monotonic() + pause
        if self.retry.sleep is not None:
            self.retry.sleep(pause)
            task.resume_at = time.monotonic()

    def record(self, task: _Task, state: str, outcome: Outcome | None) -> None:
        self.running.pop(task.job_id, None)
        result = self.results[task.job_id]
        result.state, result.attempts = state, task.attempts
        if outcome is not None:
            result.error, result.value, result.where, result.traceback = (
                outcome.error, outcome.value, outcome.where, outcome.trace)
        result.duration = time.monotonic() - task.started
        extra = {**self.extra, "job_id": task.job_id}
        if result.state == SUCCESS:
            logger.info("job %s succeeded in %.2f s", task.job_id, result.duration, extra=extra)
        elif result.state in (FAILED, TIMEOUT):
            trace = f"\n{result.traceback}" if result.traceback and logger.isEnabledFor(logging.DEBUG) else ""
            logger.error("job %s %s after %d attempt(s): %s%s", task.job_id, result.state, result.attempts,
                         result.error_line, trace, extra=extra)

    def block_dependents(self, job_id: str) -> None:
        stack = list(self.downstream[job_id])
        while stack:
            result = self.results[stack.pop()]
            if result.state == SKIPPED:
                result.state = UPSTREAM_FAILED
                stack.extend(self.downstream[result.job_id])

    def expire(self) -> None:
        now = time.monotonic()
        for task in [task for task in self.running.values() if task.deadline <= now]:
            if not self.workers.stop(task.job_id):
                continue  # finished just in time: its outcome is waiting
            timeout = task.settings.execution_timeout_sec
            error = TimeoutError(f"job {task.job_id!r} did not finish within execution_timeout_sec={timeout:g}")
            self.record(task, TIMEOUT, Outcome(TIMEOUT, error=error))
            self.block_dependents(task.job_id)
            try:
                self.hook("on_job_error", job=task.job, context=self.context, error=error)
            except Exception:  # noqa: BLE001 - the job already failed; keep the run going
                logger.exception("on_job_error hook failed for job %s", task.job_id,
                                 extra={**self.extra, "job_id": task.job_id})

    def cancel(self) -> None:
        for task in list(self.running.values()):
            if task.resume_at < math.inf or self.workers.stop(task.job_id):
                self.record(task, CANCELLED, None)
        while self.running:  # jobs whose outcome came in before they could be stopped
            finished = self.workers.wait(0)
            if finished is None:
                return
            job_id, outcome = finished
            self.record(self.running[job_id], SUCCESS if outcome.state == SUCCESS else CANCELLED, outcome)


def run_workflow(workflow: Workflow, *, runtime: datetime | date | str | None = None, env: str | None = None,
                 config: Mapping[str, Any] | Config | None = None, jobs: int = 1, only_job: str | None = None,
                 run_id: str | None = None, hooks: Any = None, retries: bool = True,
                 retry: RetryPolicy | None = None, isolate: bool = False) -> RunReport:
    """Run a workflow (or only its job ``only_job``) and report every job's outcome; see the module docstring.

    ``hooks`` may have any of ``before_workflow(workflow, context)``, ``after_workflow(workflow, context,
    report)``, ``before_job(job, context)``, ``after_job(job, context, result)`` and ``on_job_error(job,
    context, error)``, called with keyword arguments; job hooks run where the attempt runs (its worker thread
    or process), ``on_job_error`` of a timeout in the calling thread. ``retries=False`` makes one attempt per
    job (when Airflow retries instead); ``retry`` tunes retries further (default: every job's own settings).
    ``isolate`` runs attempts in worker processes where it can (:func:`bigflow.workers.can_isolate`).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise BigflowError(f"jobs must be an integer >= 1, got {jobs!r}")
    job_ids = [workflow.find_job(only_job).id] if only_job is not None else list(workflow.job_ids)
    runtime_str = None
    if isinstance(runtime, str):  # 1.x forms kept as written ({dt} relies on it)
        parsed = runtimes.parse(runtime)
        runtime_str, runtime = runtimes.runtime_str(runtime, parsed), parsed
    context = JobContext.make(runtime=runtime, runtime_str=runtime_str, workflow=workflow, env=env, config=config,
                              run_id=run_id)
    retry = retry or RetryPolicy()
    if not retries:
        retry = dataclasses.replace(retry, enabled=False)
    run = _Run(workflow, context, job_ids, jobs, hooks, retry, isolate)
    report = RunReport(workflow.workflow_id, context.run_id, context.runtime, context.env)
    extra = run.extra
    logger.info("running %s of workflow %s for %s (env %s)", f"job {only_job}" if only_job else "all jobs",
                workflow.workflow_id, context.runtime_str, context.env, extra=extra)
    started = time.monotonic()
    run.hook("before_workflow", workflow=workflow, context=context)
    report.interrupted = run.execute()
    report.results = list(run.results.values())
    report.duration = time.monotonic() - started
    run.hook("after_workflow", workflow=workflow, context=context, report=report)
    logger.log(logging.INFO if report.ok else logging.ERROR, "workflow %s %s in %.2f s: %s",
               workflow.workflow_id, "succeeded" if report.ok else "did not succeed", report.duration,
               ", ".join(f"{state}={count}" for state, count in Counter(r.state for r in report.results).items()),
               extra=extra)
    return report
