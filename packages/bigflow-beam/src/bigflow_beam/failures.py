"""Turning a failed pipeline into one line that points at the user's code, not at Beam's internals."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from types import TracebackType

import bigflow

_FRAMEWORK_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"], Path(bigflow.__file__).parent,
              Path(__file__).parent}
)
_FRAMEWORK_PACKAGES = ("apache_beam", "bigflow", "bigflow_beam", "google", "grpc")


def _frames(tb: TracebackType | None):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _causes(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_framework(filename: str, module: str) -> bool:
    if module.split(".")[0] in _FRAMEWORK_PACKAGES or filename.startswith(("<", "apache_beam/")):
        return True
    return str(Path(filename).resolve()).startswith(_FRAMEWORK_DIRS)


def user_frame(error: BaseException, package: str | None = None) -> str | None:
    """``path:line in function`` of the innermost frame of user code in the error's traceback.

    Frames of ``package`` (the module of the job's entry point) are preferred, then any frame outside Beam,
    bigflow and the standard library. Chained exceptions are searched too (Beam re-raises worker errors).
    """
    fallback = None
    for exc in _causes(error):
        preferred = other = None
        for frame, lineno in _frames(exc.__traceback__):
            filename, module = frame.f_code.co_filename, str(frame.f_globals.get("__name__", ""))
            if package and module.split(".")[0] == package:
                preferred = (filename, lineno, frame.f_code.co_name)
            elif not _is_framework(filename, module):
                other = (filename, lineno, frame.f_code.co_name)
        found = preferred or other
        if preferred:
            return _describe(*preferred)
        fallback = fallback or (found and _describe(*found))
    return fallback


def _describe(filename: str, lineno: int, function: str) -> str:
    path = Path(filename)
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    return f"{shown}:{lineno} in {function}"


def first_line(error: BaseException) -> str:
    """``Type: first line of the message``."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0].strip()}" if lines else type(error).__name__
