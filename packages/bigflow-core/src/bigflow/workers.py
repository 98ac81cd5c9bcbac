"""Where the executor runs job attempts: worker threads (in this process) or worker processes (isolated).

Both kinds take a job id (``start``), report ``(job_id, Outcome)`` when its attempt ends (``wait``), give up on
a running attempt (``stop``: timeout, Ctrl-C) and end (``close``).

:class:`ThreadWorkers` run attempts in daemon threads of this process. A thread cannot be killed: a job given
up on keeps running in the background until it returns or the process exits (its result is dropped).

:class:`ProcessWorkers` run attempts in forked worker processes, each the leader of its own process group
(``bigflow run``). A worker runs one attempt at a time and is reused for the next job while attempts succeed
(forking costs milliseconds; a 1000-job run would pay seconds). A worker whose attempt failed, timed out or was
cancelled is ended with its whole process group — the job, the threads it started and the processes they
started (``sleep 1000``) — and a fresh one runs the next attempt; at the end of the run every worker's group
is ended the same way, so nothing a job started outlives the run. Ending is SIGTERM (the worker runs the exit
handlers its jobs registered, then kills its group), then SIGKILL of the group after ``GRACE_SEC``. A worker
also ends when bigflow dies (Linux: ``PR_SET_PDEATHSIG``). Workers need ``fork`` (POSIX) and a stdout and
stderr that are files (a terminal, a pipe, a file): in-process test runners that capture them in memory
(``bigflow.testing``'s ``bigflow_cli``) get threads (:func:`can_isolate`). Only processes that start a session of their own
(``setsid``, e.g. daemons) leave the group and escape; jobs' memory is freed when their worker ends.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bigflow.attempts import FAILED, SUCCESS, Outcome, decode, encode
from bigflow.errors import BigflowError

GRACE_SEC = 3.0  # how long an ended worker may take to clean up before its group is killed


def can_isolate() -> bool:
    """True when attempts can run in worker processes whose output reaches this process's stdout/stderr."""
    try:
        return hasattr(os, "fork") and all(stream.fileno() >= 0 for stream in (sys.stdout, sys.stderr))
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both OSError and ValueError
        return False


class ThreadWorkers:
    """Attempts in daemon threads of this process; ``attempt(job_id, abandoned)`` runs one."""

    def __init__(self, attempt: Callable[[str, Callable[[], bool]], Outcome], threads: int) -> None:
        self.attempt = attempt
        self.todo: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[str, Outcome]] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.reported: dict[str, bool] = {}  # job id -> its current attempt was reported or given up on
        self.threads = 0
        for _ in range(threads):
            self._add_thread()

    def _add_thread(self) -> None:
        self.threads += 1
        threading.Thread(target=self._work, name=f"bigflow-worker-{self.threads}", daemon=True).start()

    def _work(self) -> None:
        while (job_id := self.todo.get()) is not None:
            outcome = self.attempt(job_id, lambda job_id=job_id: self.reported[job_id])
            with self.lock:
                if self.reported[job_id]:
                    return  # given up on; another thread took this one's place
                self.reported[job_id] = True
                self.done.put((job_id, outcome))

    def start(self, job_id: str) -> None:
        self.reported[job_id] = False
        self.todo.put(job_id)

    def wait(self, timeout: float) -> tuple[str, Outcome] | None:
        try:
            return self.done.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self, job_id: str) -> bool:
        """Give up on the job's attempt; False when it was reported already (its outcome is waiting)."""
        with self.lock:
            if self.reported[job_id]:
                return False
            self.reported[job_id] = True
        self._add_thread()  # the abandoned thread still runs the job
        return True

    def close(self) -> None:
        for _ in range(self.threads):
            self.todo.put(None)


@dataclass(slots=True)
class _Worker:
    pid: int
    send_fd: int
    receive_fd: int
    job_id: str = ""
    kill_at: float = 0.0


class ProcessWorkers:
    """Attempts in forked worker processes, one process group each; ``attempt(job_id)`` runs one there."""

    def __init__(self, attempt: Callable[[str], Outcome]) -> None:
        self.attempt = attempt
        self.idle: list[_Worker] = []
        self.busy: dict[str, _Worker] = {}
        self.ending: list[_Worker] = []

    def start(self, job_id: str) -> None:
        while True:
            worker = self.idle.pop() if self.idle else self._spawn()
            try:
                _send(worker.send_fd, pickle.dumps(job_id))
                break
            except BrokenPipeError:  # an idle worker died (e.g. something it ran called os._exit)
                self._end(worker, signal.SIGKILL)
        worker.job_id = job_id
        self.busy[job_id] = worker

    def wait(self, timeout: float) -> tuple[str, Outcome] | None:
        self._reap()
        if self.ending:
            timeout = min(timeout, max(min(w.kill_at for w in self.ending) - time.monotonic(), 0))
        by_fd = {worker.receive_fd: worker for worker in self.busy.values()}
        readable, _, _ = select.select(list(by_fd), [], [], timeout)
        if not readable:
            return None
        worker = by_fd[readable[0]]
        del self.busy[worker.job_id]
        data = _receive(worker.receive_fd)
        if data is None:  # the process ended without reporting
            outcome = Outcome(FAILED, error=BigflowError(f"the job's process {self._death(worker)}"))
        else:
            outcome = decode(data)
        if outcome.state == SUCCESS:
            self.idle.append(worker)
        else:
            self._end(worker, None)  # a retry starts afresh, without what the failed attempt left running
        return worker.job_id, outcome

    def stop(self, job_id: str) -> bool:
        """End the job's worker (and its group); False when the outcome is already waiting to be read."""
        worker = self.busy[job_id]
        if select.select([worker.receive_fd], [], [], 0)[0]:
            return False
        del self.busy[job_id]
        self._end(worker, signal.SIGTERM)
        return True

    def close(self) -> None:
        """End every worker and its group; returns within about ``GRACE_SEC``."""
        for worker in self.idle:
            self._end(worker, None)
        for worker in self.busy.values():
            self._end(worker, signal.SIGTERM)
        self.idle, self.busy = [], {}
        while self.ending:
            self._reap()
            if self.ending:
                time.sleep(0.01)

    # -- worker lifecycle (parent side) ---------------------------------------------------------------

    def _spawn(self) -> _Worker:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # else the child would write the parent's buffered output again
        inherited = [fd for w in (*self.idle, *self.busy.values(), *self.ending) for fd in (w.send_fd, w.receive_fd) if fd >= 0]
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            try:
                for fd in (task_write, result_read, *inherited):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                _serve(task_read, result_write, self.attempt, parent)
            finally:
                os._exit(70)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also done by the child; whichever runs first
        os.close(task_read)
        os.close(result_write)
        return _Worker(pid, task_write, result_read)

    def _end(self, worker: _Worker, how: signal.Signals | None) -> None:
        """Ask a worker to end: None closes its task pipe (it cleans up and exits), else send ``how``."""
        with contextlib.suppress(OSError):
            os.close(worker.send_fd)
        worker.send_fd = -1
        if how is not None:
            _kill_group(worker.pid, how)
        worker.kill_at = time.monotonic() + GRACE_SEC
        self.ending.append(worker)

    def _reap(self) -> None:
        now = time.monotonic()
        for worker in list(self.ending):
            if _running(worker.pid) and now < worker.kill_at:
                continue
            _kill_group(worker.pid, signal.SIGKILL)  # before reaping: the group id cannot be reused yet
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
            with contextlib.suppress(OSError):
                os.close(worker.receive_fd)
            self.ending.remove(worker)

    def _death(self, worker: _Worker) -> str:
        """How a worker that stopped talking ended, e.g. 'was killed by SIGKILL (out of memory?)'."""
        deadline = time.monotonic() + 1.0
        while _running(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            info = os.waitid(os.P_PID, worker.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            info = None
        self._end(worker, signal.SIGKILL)
        if info is None:
            return "stopped reporting before the job returned"
        if info.si_code == os.CLD_EXITED:
            return f"exited with code {info.si_status} before the job returned"
        name = signal.Signals(info.si_status).name
        return f"was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")


def _running(pid: int) -> bool:
    """True while the child has not exited (it is not reaped here)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def _kill_group(pgid: int, how: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, how)


# -- the worker process -------------------------------------------------------------------------------


def _serve(tasks: int, results: int, attempt: Callable[[str], Outcome], parent: int) -> None:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, lambda *_: _end_worker())
    _die_with(parent)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a process group in the background of a terminal must not read it
    os.close(devnull)
    atexit._clear()  # the parent's exit handlers are the parent's; the jobs' own run in _end_worker
    while (data := _receive(tasks)) is not None:
        outcome = attempt(pickle.loads(data))  # noqa: S301 - written by the parent
        _flush()
        _send(results, encode(outcome))
    _end_worker()


def _die_with(parent: int) -> None:
    """Get SIGTERM when the parent dies (Linux), and end now if it is gone already."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        _end_worker()


def _end_worker() -> None:
    """Run the exit handlers the jobs registered, then kill this worker's whole process group."""
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    _flush()
    if os.getpgid(0) == os.getpid():  # never the parent's group
        os.killpg(0, signal.SIGKILL)
    os._exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes | None:
    """One message, or None at end of file (the other side closed or died)."""
    head = _read_exactly(fd, 8)
    return None if head is None else _read_exactly(fd, int.from_bytes(head, "big"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        try:
            chunk = os.read(fd, min(missing, 1 << 20))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
