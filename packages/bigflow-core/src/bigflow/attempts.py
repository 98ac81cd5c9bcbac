"""One attempt of a job and what it produced, in a form that crosses a process boundary faithfully.

An :class:`Outcome` carries the job's return value or its error, the error as one line (``Type: message``),
the file and line of the user's code where it was raised, and the formatted traceback (for ``--debug``).
Between processes it travels pickled (:func:`encode`/:func:`decode`); an error or value that cannot be
pickled or unpickled arrives as a :class:`RemoteJobError` keeping the original one line / as ``None``.
"""

from __future__ import annotations

import logging
import pickle
import sys
import sysconfig
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bigflow.compat.workflow import execute_job
from bigflow.errors import BigflowError
from bigflow.workflow import JobContext

SUCCESS, FAILED = "success", "failed"
INTERRUPTED = "interrupted"  # the job raised KeyboardInterrupt


def error_line(error: BaseException | None) -> str:
    """An exception as one line, ``Type: first line of message`` ('' for None); a BigflowError's message alone."""
    if error is None:
        return ""
    if isinstance(error, RemoteJobError):
        return error.line
    text = str(error).strip().splitlines()
    if isinstance(error, BigflowError) and text:
        return text[0]
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class RemoteJobError(Exception):
    """A job's error from another process that could not be pickled or unpickled: its one line survives."""

    def __init__(self, line: str, retryable: bool = True) -> None:
        super().__init__(line)
        self.line = line
        self.retryable = retryable


def _library_dirs() -> list[Path]:
    """Where code that is not the user's lives: the standard library, site-packages, bigflow and its plugins."""
    paths = sysconfig.get_paths()
    dirs = [Path(paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    for name, module in list(sys.modules.items()):
        if "." not in name and (name == "bigflow" or name.startswith("bigflow_")) and getattr(module, "__file__", None):
            dirs.append(Path(module.__file__).parent)
    return [directory.resolve() for directory in dirs]


def user_location(error: BaseException) -> str:
    """``file:line`` of the innermost frame of the user's code in the error's traceback ('' if none).

    The file is relative to the current directory when it lies below it.
    """
    libraries = _library_dirs()
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if not path.is_absolute() or not path.exists():
            continue  # <frozen ...>, <string>
        path = path.resolve()
        if any(path.is_relative_to(directory) for directory in libraries):
            continue
        try:
            shown = path.relative_to(Path.cwd().resolve())
        except ValueError:
            shown = path
        return f"{shown}:{frame.lineno}"
    return ""


@dataclass(slots=True)
class Outcome:
    """What one attempt produced: ``state`` is SUCCESS, FAILED or INTERRUPTED."""

    state: str
    value: Any = None
    error: BaseException | None = None
    where: str = ""  # file:line of the user's code where the error was raised
    trace: str = ""  # the formatted traceback

    @classmethod
    def failed(cls, error: BaseException) -> Outcome:
        return cls(FAILED, error=error, where=user_location(error),
                   trace="".join(traceback.format_exception(error)).rstrip())

    @property
    def retryable(self) -> bool:
        return getattr(self.error, "retryable", True) is not False


Hook = Callable[..., None]


def run_attempt(job: Any, context: JobContext, hook: Hook, abandoned: Callable[[], bool] = lambda: False) -> Outcome:
    """Run one attempt: hooks ``before_job``, the job, ``after_job`` (or ``on_job_error``).

    An exception of a hook fails the attempt like the job's own; ``abandoned()`` true (the run gave up on
    this attempt, e.g. its timeout passed) skips the hooks after the job.
    """
    try:
        hook("before_job", job=job, context=context)
        value = execute_job(job, context)
        if not abandoned():
            hook("after_job", job=job, context=context, result=value)
        return Outcome(SUCCESS, value=value)
    except KeyboardInterrupt as error:
        return Outcome(INTERRUPTED, error=error)
    except BaseException as error:  # noqa: BLE001 - the job's (or a hook's) error, SystemExit included
        outcome = Outcome.failed(error)
    if not abandoned():
        try:
            hook("on_job_error", job=job, context=context, error=outcome.error)
        except Exception:  # noqa: BLE001 - the attempt failed already; the hook's error is only logged
            logging.getLogger("bigflow.executor").exception("on_job_error hook failed for job %s",
                                                             getattr(job, "id", "?"))
    return outcome


def _dumps(value: Any) -> bytes | None:
    try:
        return pickle.dumps(value)
    except Exception:  # noqa: BLE001 - anything may fail to pickle
        return None


def _loads(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return pickle.loads(data)  # noqa: S301 - written by our own worker process
    except Exception:  # noqa: BLE001 - e.g. an exception class whose __init__ takes other arguments
        return None


def encode(outcome: Outcome) -> bytes:
    """The outcome as bytes for another process (see the module docstring)."""
    error = outcome.error
    return pickle.dumps((outcome.state, _dumps(outcome.value), _dumps(error), error_line(error),
                         outcome.retryable, outcome.where, outcome.trace))


def decode(data: bytes) -> Outcome:
    """The outcome :func:`encode` wrote."""
    state, value, error, line, retryable, where, trace = pickle.loads(data)  # noqa: S301 - our own worker
    restored = _loads(error)
    if line and not isinstance(restored, BaseException):
        restored = RemoteJobError(line, retryable)
    return Outcome(state, _loads(value), restored, where, trace)
