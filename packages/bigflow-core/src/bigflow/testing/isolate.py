"""BigFlow 1.x's ``bigflow.testing.isolate``: run each test method of a ``unittest.TestCase`` in its own process.

    class MyTest(bigflow.testing.SpawnIsolateMixin, unittest.TestCase):  # or ForkIsolateMixin
        def test_with_side_effects(self): ...

The child process runs ``setUp``, the test and ``tearDown``; what it changes (modules, globals, caches) is lost
with it. ``setUpParent``/``tearDownParent`` run in the parent around each test. The child's outcome (success,
failure with its traceback, error, skip, expected failure) is replayed on the parent's ``TestResult``. A test
that outlives ``timeout`` seconds is killed and fails. Under a debugger (``sys.gettrace()`` set) tests run in
the parent process, so breakpoints work; ``isolate = False`` on the class does the same.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import unittest
from typing import Any

__all__ = ["ForkIsolateMixin", "SpawnIsolateMixin"]

_OUTCOMES = ("addSuccess", "addFailure", "addError", "addSkip", "addExpectedFailure", "addUnexpectedSuccess")


def _portable(value: Any) -> Any:
    """``value`` if it pickles (tracebacks do when ``tblib`` is installed), else something that does."""
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        kind, error, traceback = value
        try:
            pickle.dumps(traceback)
        except Exception:
            traceback = None
        try:
            pickle.dumps(error)
        except Exception:
            kind, error = RuntimeError, RuntimeError(f"{kind.__name__}: {error}")
        return kind, error, traceback
    return value


class _Recorder(unittest.TestResult):
    """Records the outcome calls of one test (in the child) as ``(method, args)`` without the test itself."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattribute__(self, name: str) -> Any:
        if name in _OUTCOMES:
            return lambda test, *args: self.calls.append((name, tuple(map(_portable, args))))
        return super().__getattribute__(name)


def _install_tblib() -> None:
    try:
        import tblib.pickling_support
    except ImportError:  # tracebacks of the child are then dropped; the error and its message are kept
        return
    tblib.pickling_support.install()


class _IsolatedProcessMixin(unittest.TestCase):
    timeout: float = 3600
    _start_method: str

    @property
    def isolate(self) -> bool:  # type: ignore[override]
        """Whether tests run in a child process: not under a debugger."""
        return sys.gettrace() is None

    def setUpParent(self) -> None:
        """Runs in the parent process before each test."""

    def tearDownParent(self) -> None:
        """Runs in the parent process after each test."""

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        if not self.isolate:
            self.setUpParent()
            try:
                return super().run(result)
            finally:
                self.tearDownParent()
        result = result if result is not None else self.defaultTestResult()
        _install_tblib()
        context = multiprocessing.get_context(self._start_method)
        receiver, sender = context.Pipe(duplex=False)
        self.setUpParent()
        try:
            process = context.Process(target=self._run_in_child, args=(sender,), name=f"isolated {self.id()}")
            process.start()
            sender.close()
            calls = self._receive(receiver, process)
        finally:
            receiver.close()
            self.tearDownParent()
        result.startTest(self)
        for name, args in calls:
            getattr(result, name)(self, *args)
        result.stopTest(self)
        return result

    def _run_in_child(self, sender: Any) -> None:
        _install_tblib()
        recorder = _Recorder()
        super().run(recorder)
        sender.send(recorder.calls)
        sender.close()

    def _receive(self, receiver: Any, process: Any) -> list[tuple[str, tuple[Any, ...]]]:
        try:
            if receiver.poll(self.timeout):
                return receiver.recv()
            problem = f"the isolated test process was still running after {self.timeout} s; it was killed"
        except EOFError:
            process.join()
            problem = f"the isolated test process exited with code {process.exitcode} before reporting"
        finally:
            if process.is_alive():
                process.kill()
            process.join()
        return [("addFailure", ((AssertionError, AssertionError(problem), None),))]


class ForkIsolateMixin(_IsolatedProcessMixin):
    """Each test method runs in a forked copy of this process (modules already imported stay imported)."""

    _start_method = "fork"


class SpawnIsolateMixin(_IsolatedProcessMixin):
    """Each test method runs in a fresh Python process (modules are imported anew). The test and its class
    attributes set after it was made (e.g. by ``setUpClass``) are pickled into the child."""

    _start_method = "spawn"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._class_at_init = dict(vars(type(self)))

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k != "_class_at_init"}
        state["_class_changes"] = {k: v for k, v in vars(type(self)).items()
                                   if k not in self._class_at_init or self._class_at_init[k] is not v}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.pop("_class_changes").items():
            setattr(type(self), name, value)
        vars(self).update(state)
