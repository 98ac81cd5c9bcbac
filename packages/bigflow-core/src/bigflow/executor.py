"""The local executor: runs a workflow's job graph in this process, honouring dependencies, retries, timeouts.

- Independent branches run in parallel, up to ``jobs`` at once, in worker threads (plain Python jobs run
  in-process); with ``jobs=1`` jobs run one at a time in topological order.
- A job that fails stops its dependents (``upstream_failed``), never its independent siblings.
- ``retry_count`` retries mean up to ``retry_count + 1`` attempts, ``retry_pause_sec`` apart (1.x ignored
  both locally). An exception raised by a job hook counts as a failure of that attempt. An exception with
  ``retryable = False`` (e.g. invalid SQL) is not retried.
- ``execution_timeout_sec`` limits each attempt. A thread cannot be killed: a job still running at its
  deadline is reported ``timeout`` (and not retried), the run goes on without waiting for it, and its code
  may keep running in the background until it returns or the process exits. Workers are daemon threads
  so such a job never keeps the process alive.
- Ctrl-C (or a job raising ``KeyboardInterrupt``): no new job starts, running jobs are reported
  ``cancelled`` (their threads are abandoned like timed-out ones), jobs that never started ``skipped``,
  and the report comes back with ``interrupted=True``.
"""

from __future__ import annotations

import heapq
import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bigflow import log, runtimes
from bigflow.errors import BigflowError
from bigflow.workflow import JobContext, JobSettings, Workflow, execute_job, job_settings

if TYPE_CHECKING:
    from bigflow.configuration import Config

logger = logging.getLogger("bigflow.executor")

SUCCESS, FAILED, TIMEOUT = "success", "failed", "timeout"
UPSTREAM_FAILED, CANCELLED, SKIPPED = "upstream_failed", "cancelled", "skipped"
STATES = (SUCCESS, FAILED, TIMEOUT, UPSTREAM_FAILED, CANCELLED, SKIPPED)
HOOKS = ("before_workflow", "after_workflow", "before_job", "after_job", "on_job_error")
_INTERRUPTED = "interrupted"  # internal outcome: the job raised KeyboardInterrupt
_POLL_SEC = 1.0  # longest uninterrupted wait of the main thread, so Ctrl-C is seen on every platform


@dataclass(slots=True)
class JobResult:
    """The outcome of one job: ``state`` is one of ``STATES``; ``duration`` in seconds (retry pauses included)."""

    job_id: str
    state: str = SKIPPED
    attempts: int = 0
    duration: float = 0.0
    error: BaseException | None = None
    value: Any = None  # what execute() returned

    @property
    def error_line(self) -> str:
        """The error as one line, ``Type: message`` ('' without error)."""
        return error_line(self.error)


def error_line(error: BaseException | None) -> str:
    """An exception as one line, ``Type: first line of message`` ('' for None); a BigflowError's message alone."""
    if error is None:
        return ""
    text = str(error).strip().splitlines()
    if isinstance(error, BigflowError) and text:
        return text[0]
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


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
    """A job handed to a worker; ``claimed`` (under the run's lock) decides who reports it."""

    __slots__ = ("job", "job_id", "settings", "attempts", "started", "deadline", "claimed")

    def __init__(self, job: Any, job_id: str, settings: JobSettings) -> None:
        self.job, self.job_id, self.settings = job, job_id, settings
        self.attempts = 0
        self.started = time.monotonic()
        self.deadline = self.started + settings.execution_timeout_sec
        self.claimed = False


class _Run:
    def __init__(self, workflow: Workflow, context: JobContext, job_ids: list[str], jobs: int, hooks: Any,
                 sleep: Callable[[float], Any] | None) -> None:
        self.workflow, self.context, self.jobs = workflow, context, jobs
        self.hooks = {name: getattr(hooks, name, None) for name in HOOKS} if hooks is not None else {}
        self.stop = threading.Event()
        self.sleep = sleep or self.stop.wait
        self.lock = threading.Lock()
        self.todo: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[_Task, tuple[str, BaseException | None, Any]]] = queue.SimpleQueue()
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
        self.workers = 0
        self.retries = True

    def hook(self, name: str, **arguments: Any) -> None:
        function = self.hooks.get(name)
        if function is not None:
            function(**arguments)

    # -- worker threads ------------------------------------------------------------------------------

    def add_worker(self) -> None:
        self.workers += 1
        threading.Thread(target=self.work, name=f"bigflow-worker-{self.workers}", daemon=True).start()

    def work(self) -> None:
        while (task := self.todo.get()) is not None:
            try:
                outcome = self.attempts(task)
            except KeyboardInterrupt as error:
                outcome = (_INTERRUPTED, error, None)
            except BaseException as error:  # noqa: BLE001 - a hook or SystemExit: the job failed
                outcome = (FAILED, error, None)
            with self.lock:
                if task.claimed:
                    return  # the run gave up on this job (timeout, Ctrl-C); a new worker took this one's place
                task.claimed = True
                self.done.put((task, outcome))

    def attempts(self, task: _Task) -> tuple[str, BaseException | None, Any]:
        job, context = task.job, self.context
        retries, pause, timeout = task.settings
        extra = {**self.extra, "job_id": task.job_id}
        error: BaseException | None = None
        with log.bind(**self.fields, job_id=task.job_id):
            for attempt in range(1, retries + 2):
                if self.stop.is_set():
                    return CANCELLED, error, None
                task.attempts, task.deadline = attempt, time.monotonic() + timeout
                logger.info("job %s started (attempt %d of %d)", task.job_id, attempt, retries + 1, extra=extra)
                try:
                    self.hook("before_job", job=job, context=context)
                    value = execute_job(job, context)
                except Exception as failure:  # noqa: BLE001 - the job's own error, reported
                    error = failure
                else:
                    if not task.claimed:
                        self.hook("after_job", job=job, context=context, result=value)
                    return SUCCESS, None, value
                if task.claimed:
                    break
                task.deadline = math.inf  # the pause does not count against the timeout
                logger.warning("job %s attempt %d of %d failed: %s", task.job_id, attempt, retries + 1,
                               error_line(error), extra=extra)
                self.hook("on_job_error", job=job, context=context, error=error)
                if getattr(error, "retryable", True) is False:  # e.g. invalid SQL: another attempt cannot help
                    break
                if attempt <= retries:
                    self.sleep(pause)
        return FAILED, error, None

    # -- main thread ---------------------------------------------------------------------------------

    def execute(self) -> bool:
        """Run the jobs; True when interrupted."""
        ready = [self.position[job_id] for job_id, count in self.waiting.items() if count == 0]
        heapq.heapify(ready)
        job_ids = list(self.results)
        for _ in range(min(self.jobs, len(job_ids))):
            self.add_worker()
        try:
            while ready or self.running:
                while ready and len(self.running) < self.jobs:
                    job_id = job_ids[heapq.heappop(ready)]
                    job = self.workflow.graph.by_id[job_id]
                    settings = job_settings(job)
                    if not self.retries:
                        settings = settings._replace(retry_count=0)
                    self.running[job_id] = task = _Task(job, job_id, settings)
                    self.todo.put(task)
                self.wait(ready)
            return False
        except KeyboardInterrupt:
            self.cancel()
            return True
        finally:
            self.stop.set()
            for _ in range(self.workers):
                self.todo.put(None)

    def wait(self, ready: list[int]) -> None:
        """Handle the next finished job, or the timeouts that are due."""
        deadline = min(task.deadline for task in self.running.values())
        try:
            task, outcome = self.done.get(timeout=min(max(deadline - time.monotonic(), 0), _POLL_SEC))
        except queue.Empty:
            self.expire()
            return
        self.record(task, *outcome)
        if outcome[0] == _INTERRUPTED:
            raise KeyboardInterrupt
        if outcome[0] == SUCCESS:
            for target in self.downstream[task.job_id]:
                self.waiting[target] -= 1
                if self.waiting[target] == 0 and self.results[target].state == SKIPPED:
                    heapq.heappush(ready, self.position[target])
        else:
            self.block_dependents(task.job_id)

    def record(self, task: _Task, state: str, error: BaseException | None, value: Any) -> None:
        self.running.pop(task.job_id, None)
        result = self.results[task.job_id]
        result.state = CANCELLED if state == _INTERRUPTED else state
        result.attempts, result.error, result.value = task.attempts, error, value
        result.duration = time.monotonic() - task.started
        extra = {**self.extra, "job_id": task.job_id}
        if result.state == SUCCESS:
            logger.info("job %s succeeded in %.2f s", task.job_id, result.duration, extra=extra)
        elif result.state in (FAILED, TIMEOUT):
            logger.error("job %s %s after %d attempt(s): %s", task.job_id, result.state, result.attempts,
                         result.error_line, extra=extra,
                         exc_info=error if state == FAILED and logger.isEnabledFor(logging.DEBUG) else None)

    def block_dependents(self, job_id: str) -> None:
        stack = list(self.downstream[job_id])
        while stack:
            result = self.results[stack.pop()]
            if result.state == SKIPPED:
                result.state = UPSTREAM_FAILED
                stack.extend(self.downstream[result.job_id])

    def claim(self, task: _Task) -> bool:
        """Take over reporting a running job from its worker; False when the worker already reported it."""
        with self.lock:
            claimed, task.claimed = task.claimed, True
        return not claimed

    def expire(self) -> None:
        now = time.monotonic()
        for task in [task for task in self.running.values() if task.deadline <= now]:
            if not self.claim(task):
                continue  # finished just in time: its result is in the queue
            timeout = task.settings.execution_timeout_sec
            error = TimeoutError(f"job {task.job_id!r} did not finish within execution_timeout_sec={timeout:g}")
            self.record(task, TIMEOUT, error, None)
            self.block_dependents(task.job_id)
            self.add_worker()  # the abandoned thread still runs the job
            try:
                self.hook("on_job_error", job=task.job, context=self.context, error=error)
            except Exception:  # noqa: BLE001 - the job already failed; keep the run going
                logger.exception("on_job_error hook failed for job %s", task.job_id,
                                 extra={**self.extra, "job_id": task.job_id})

    def cancel(self) -> None:
        self.stop.set()
        for task in list(self.running.values()):
            if self.claim(task):
                self.record(task, CANCELLED, None, None)
        while True:  # jobs whose workers reported them before being claimed
            try:
                task, outcome = self.done.get_nowait()
            except queue.Empty:
                return
            self.record(task, *outcome)


def run_workflow(workflow: Workflow, *, runtime: datetime | date | str | None = None, env: str | None = None,
                 config: Mapping[str, Any] | Config | None = None, jobs: int = 1, only_job: str | None = None,
                 run_id: str | None = None, hooks: Any = None,
                 sleep: Callable[[float], Any] | None = None, retries: bool = True) -> RunReport:
    """Run a workflow (or only its job ``only_job``) and report every job's outcome; see the module docstring.

    ``hooks`` may have any of ``before_workflow(workflow, context)``, ``after_workflow(workflow, context,
    report)``, ``before_job(job, context)``, ``after_job(job, context, result)`` and ``on_job_error(job,
    context, error)``, called with keyword arguments; job hooks run in the job's worker thread. ``sleep``
    waits between attempts; by default the wait ends early when the run is interrupted. ``retries=False``
    makes one attempt per job (when an orchestrator such as Airflow retries instead).
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
    run = _Run(workflow, context, job_ids, jobs, hooks, sleep)
    run.retries = retries
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
