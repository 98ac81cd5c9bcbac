"""The local executor: runs a workflow's graph in-process, honouring dependencies, retries and timeouts.

- Independent branches run in parallel, up to ``jobs`` at once (threads; plain Python jobs run in-process).
- A failed job stops its dependents (``upstream_failed``), never its independent siblings.
- ``retry_count`` retries (so up to ``retry_count + 1`` attempts), ``retry_pause_sec`` apart.
- ``execution_timeout_sec``: an attempt still running then is abandoned and counted as ``timeout`` — a
  thread cannot be killed, so the job's code may go on in the background until the process exits.
- Ctrl-C: no new job starts, running ones are reported ``cancelled``, the report has ``interrupted=True``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bigflow import log
from bigflow.errors import BigflowError
from bigflow.workflow import JobContext, Workflow, execute_job, job_setting

logger = logging.getLogger("bigflow.executor")

SUCCESS, FAILED, TIMEOUT, UPSTREAM_FAILED, CANCELLED = "success", "failed", "timeout", "upstream_failed", "cancelled"


@dataclass
class JobResult:
    job_id: str
    state: str = CANCELLED
    attempts: int = 0
    duration: float = 0.0
    error: BaseException | None = None
    value: Any = None

    @property
    def error_line(self) -> str:
        """The error as one line: ``Type: message``."""
        if self.error is None:
            return ""
        text = str(self.error).strip().splitlines()
        return f"{type(self.error).__name__}: {text[0]}" if text else type(self.error).__name__


@dataclass
class RunReport:
    workflow_id: str
    run_id: str
    runtime: datetime
    env: str | None
    results: list[JobResult] = field(default_factory=list)
    interrupted: bool = False
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.state == SUCCESS for r in self.results)

    def result(self, job_id: str) -> JobResult:
        return next(r for r in self.results if r.job_id == job_id)

    def failure(self) -> BigflowError:
        """A one-line error describing the first job that did not succeed."""
        failed = [r for r in self.results if r.state != SUCCESS]
        first = failed[0]
        detail = f": {first.error_line}" if first.error_line else ""
        return BigflowError(
            f"{len(failed)} of {len(self.results)} job(s) of {self.workflow_id!r} did not succeed; "
            f"first: {first.job_id} {first.state}{detail}",
            exit_code=130 if self.interrupted else 1,
        )


class _NoHooks:
    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda **kwargs: None


class _Attempt:
    """One attempt of a job in a daemon thread, so a timed-out attempt does not block the run."""

    def __init__(self, job: Any, context: JobContext) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        run_context = contextvars.copy_context()
        threading.Thread(target=run_context.run, args=(self._run, job, context), daemon=True,
                         name=f"bigflow-job-{job.id}").start()

    def _run(self, job: Any, context: JobContext) -> None:
        try:
            with log.bind(job_id=job.id):
                self.value = execute_job(job, context)
        except BaseException as error:  # noqa: BLE001 - reported, including KeyboardInterrupt from a job
            self.error = error
        finally:
            self.done.set()


def _run_job(job: Any, context: JobContext, hooks: Any, sleep: Callable[[float], None],
             stop: threading.Event) -> JobResult:
    result = JobResult(job.id)
    started = time.perf_counter()
    retries = max(0, int(job_setting(job, "retry_count")))
    pause = job_setting(job, "retry_pause_sec")
    timeout = job_setting(job, "execution_timeout_sec")
    for attempt in range(1, retries + 2):
        result.attempts = attempt
        hooks.before_job(job=job, context=context)
        running = _Attempt(job, context)
        finished = running.done.wait(timeout if timeout and timeout > 0 else None)
        if finished and running.error is None:
            result.state, result.value, result.error = SUCCESS, running.value, None
            hooks.after_job(job=job, context=context, result=running.value)
            break
        if isinstance(running.error, KeyboardInterrupt):
            stop.set()
            result.state, result.error = CANCELLED, None
            break
        error = running.error if finished else TimeoutError(f"job {job.id!r} exceeded {timeout} s")
        result.state, result.error = (FAILED if finished else TIMEOUT), error
        logger.warning("attempt %d of %d failed: %s", attempt, retries + 1, result.error_line,
                       extra={"job_id": job.id})
        hooks.on_job_error(job=job, context=context, error=error)
        if attempt <= retries and not stop.is_set():
            sleep(pause)
        if stop.is_set():
            break
    result.duration = time.perf_counter() - started
    return result


def run_workflow(workflow: Workflow, *, runtime: datetime, env: str | None, config: dict[str, Any] | None = None,
                 jobs: int = 1, only_job: str | None = None, run_id: str | None = None, hooks: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> RunReport:
    """Run a workflow (or one of its jobs) and report every job's outcome; see the module docstring."""
    hooks = hooks or _NoHooks()
    run_id = run_id or uuid.uuid4().hex[:12]
    context = JobContext.make(runtime=runtime, workflow=workflow, env=env, config=config, run_id=run_id)
    selected = [workflow.find_job(only_job)] if only_job else list(workflow.jobs)
    wanted = {job.id for job in selected}
    report = RunReport(workflow.workflow_id, run_id, context.runtime, env)
    results = {job.id: JobResult(job.id) for job in selected}
    stop = threading.Event()
    started = time.perf_counter()
    with log.bind(workflow_id=workflow.workflow_id, run_id=run_id, runtime=context.runtime_str, env=env):
        logger.info("running %s (%d job(s)) for %s", "job " + only_job if only_job else "workflow",
                    len(selected), context.runtime_str)
        hooks.before_workflow(workflow=workflow, context=context)
        pending = {job.id: job for job in selected}
        children: dict[str, list[str]] = {job_id: [] for job_id in pending}
        blockers: dict[str, int] = {}
        for job_id in pending:
            parents = [p for p in workflow.dependencies[job_id] if p in wanted]
            blockers[job_id] = len(parents)
            for parent in parents:
                children[parent].append(job_id)
        ready = deque(job_id for job_id in pending if not blockers[job_id])
        running: dict[Future[JobResult], str] = {}
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="bigflow") as pool:
            try:
                while ready or running:
                    while ready and len(running) < jobs and not stop.is_set():
                        job = pending.pop(ready.popleft())
                        future = pool.submit(contextvars.copy_context().run, _run_job, job, context, hooks,
                                             sleep, stop)
                        running[future] = job.id
                    if not running:
                        break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        job_id = running.pop(future)
                        result = results[job_id] = future.result()
                        if result.state == SUCCESS:
                            for child in children[job_id]:
                                blockers[child] -= 1
                                if not blockers[child]:
                                    ready.append(child)
                        else:
                            _skip_downstream(job_id, children, pending, results)
            except KeyboardInterrupt:
                stop.set()
                report.interrupted = True
            if stop.is_set():
                report.interrupted = True
        report.results = [results[job.id] for job in selected]
        report.duration = time.perf_counter() - started
        hooks.after_workflow(workflow=workflow, context=context, report=report)
        level = logging.INFO if report.ok else logging.ERROR
        logger.log(level, "%s in %.2f s: %s", "succeeded" if report.ok else "failed", report.duration,
                   ", ".join(f"{r.job_id}={r.state}" for r in report.results))
    return report


def _skip_downstream(failed: str, children: dict[str, list[str]], pending: dict[str, Any],
                     results: dict[str, JobResult]) -> None:
    for child in children[failed]:
        if child in pending:
            del pending[child]
            results[child] = JobResult(child, UPSTREAM_FAILED)
            _skip_downstream(child, children, pending, results)
