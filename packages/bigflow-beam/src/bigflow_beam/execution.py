"""Running a pipeline with a deadline: on timeout the pipeline is cancelled, not abandoned.

The pipeline runs (and is waited for) in a worker thread while the caller waits for the deadline. When it
passes, a runner that can cancel (Dataflow, the BundleBasedDirectRunner) is asked to; a pipeline still inside
``run()`` (the FnApiRunner runs synchronously) is interrupted by raising ``PipelineCancelled`` in its thread,
which stops it at the next Python instruction of a transform. Output written through Beam's file sinks is
finalized only at the end of a run, so a cancelled run leaves no partial result behind.
"""

from __future__ import annotations

import contextvars
import ctypes
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: Beam loggers that log a worker error (with its traceback) before re-raising it to us.
_NOISY_LOGGERS = ("apache_beam.runners.common", "apache_beam.runners.direct.executor",
                  "apache_beam.runners.worker.sdk_worker")


class PipelineCancelled(BaseException):
    """Raised inside a pipeline's thread to stop it at its deadline."""


class DeadlineReached(Exception):
    """The pipeline did not finish before its deadline; ``stopped`` tells whether it is known to be stopped."""

    def __init__(self, stopped: bool) -> None:
        super().__init__("deadline reached")
        self.stopped = stopped


@dataclass
class _Run:
    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _DropErrors(logging.Filter):
    """Drops Beam's error records (a worker error's traceback, retries given up): the job reports the error
    itself, as one line naming the user's frame."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


def run_pipeline(pipeline: Any, *, timeout: float | None, wait: bool, grace: float = 10.0) -> Any:
    """Run ``pipeline`` (and wait for it when ``wait``); return its result or raise what the run raised.

    ``timeout`` is in seconds; ``grace`` is how long to wait for a cancelled pipeline to stop.
    """
    run = _Run()

    def work() -> None:
        try:
            run.result = pipeline.run()
            if wait:
                run.result.wait_until_finish()
        except BaseException as error:  # noqa: BLE001 - handed over to the calling thread
            run.error = error
        finally:
            run.done.set()

    quiet = _DropErrors()
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    context = contextvars.copy_context()  # log fields (workflow, job, run ids) follow into the thread
    thread = threading.Thread(target=context.run, args=(work,), name="bigflow-beam-pipeline", daemon=True)
    try:
        thread.start()
        if not run.done.wait(timeout):
            raise DeadlineReached(_cancel(run, thread, grace))
    finally:
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).removeFilter(quiet)
    if run.error is not None:
        raise run.error
    return run.result


def _cancel(run: _Run, thread: threading.Thread, grace: float) -> bool:
    """Stop the run; True when it is known to have stopped within ``grace`` seconds.

    A remote job (Dataflow) is asked to cancel and stops on the service's time. A local pipeline is
    interrupted in the threads that run it.
    """
    result = run.result
    if callable(getattr(result, "job_id", None)):
        logger.warning("pipeline deadline reached; cancelling job %s", result.job_id())
        result.cancel()
        return False
    logger.warning("pipeline deadline reached; interrupting the pipeline")
    workers = _local_workers(result)
    if not workers:  # the pipeline runs in our thread (FnApiRunner): one interruption stops it
        if result is not None:
            threading.Thread(target=_cancel_quietly, args=(result,), daemon=True).start()
        _interrupt(thread)
        return run.done.wait(grace)
    # BundleBasedDirectRunner: its workers retry a failed bundle, so interrupt them until the failure reaches
    # the waiting thread (its cancel() would stop the monitor that reports it, and block until workers idle).
    deadline = time.monotonic() + grace
    while not run.done.wait(0.05):
        if time.monotonic() > deadline:
            return False
        for worker in workers:
            if "(executing)" in worker.name:  # Beam names a worker after the bundle it runs
                _interrupt(worker)
    return True


def _local_workers(result: Any) -> list[threading.Thread]:
    """The worker threads of a BundleBasedDirectRunner run (none for other results)."""
    executor = getattr(getattr(result, "_executor", None), "_executor", None)
    return list(getattr(getattr(executor, "executor_service", None), "workers", []))


def _cancel_quietly(result: Any) -> None:
    try:
        result.cancel()
    except Exception as error:  # noqa: BLE001 - the run is interrupted anyway
        logger.debug("cancelling the pipeline result failed: %s", error)


def _interrupt(thread: threading.Thread) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(PipelineCancelled))
