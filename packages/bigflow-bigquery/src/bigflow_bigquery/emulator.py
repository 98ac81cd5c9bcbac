"""The local BigQuery: bqemulator (BigQuery's REST and gRPC APIs over DuckDB) started on 127.0.0.1.

The emulator runs in a child process (``python -m bigflow_bigquery.emulator_main``) that first installs the
DuckDB extensions it needs from the ``duckdb-extension-*`` wheels (offline), then serves. DuckDB keeps
extensions under ``$HOME/.duckdb``; ``BIGFLOW_DUCKDB_HOME`` points the child at another directory.

A project's emulator keeps its data in ``.bigflow/bigquery`` (``bigquery_emulator_dir``). One started by
``bigflow bigquery emulator start`` runs until ``stop`` and is found through ``emulator.json`` there; when
none runs, the first BigQuery operation of a process starts one and stops it when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bigflow.api import BigflowError, progress

HOST = "127.0.0.1"
DUCKDB_HOME_ENV = "BIGFLOW_DUCKDB_HOME"
PARENT_ENV = "BIGFLOW_EMULATOR_PARENT"
STATE_FILE = "emulator.json"
LOG_FILE = "emulator.log"
START_TIMEOUT_SEC = 60.0
EXTENSION_FAILURE_EXIT = 3


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator process serving on 127.0.0.1."""

    pid: int
    rest_port: int
    grpc_port: int
    data_dir: str | None          # None: ephemeral (in memory)
    log: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.rest_port}"

    def healthy(self) -> bool:
        return healthy(self.url)


def healthy(url: str, timeout: float = 0.5) -> bool:
    """Whether a bqemulator answers ``/healthz`` at ``url``."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
            return response.status == 200 and b'"ok"' in response.read()
    except (OSError, urllib.error.URLError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def start(*, data_dir: Path | None = None, rest_port: int | None = None, grpc_port: int | None = None,
          project: str = "local-project", log: Path | None = None, detach: bool = False,
          duckdb_home: Path | None = None) -> RunningEmulator:
    """Start an emulator and return once it answers (in about 2 s); a one-line error if it cannot start.

    ``data_dir`` None keeps data in memory. ``detach`` makes the process outlive the caller.
    """
    if rest_port is not None and not _port_free(rest_port):
        raise BigflowError(
            f"cannot start the BigQuery emulator: port {rest_port} on {HOST} is already in use; stop what "
            "listens there or choose another port (bigquery_emulator_port / --port)"
        )
    rest_port = rest_port or free_port()
    grpc_port = grpc_port or free_port()
    if log is None:
        handle, name = tempfile.mkstemp(prefix="bigflow-bqemulator-", suffix=".log")
        os.close(handle)
        log = Path(name)
    command = [sys.executable, "-m", "bigflow_bigquery.emulator_main", "start",
               "--rest-host", HOST, "--rest-port", str(rest_port), "--grpc-host", HOST,
               "--grpc-port", str(grpc_port), "--project", project, "--log-level", "warning",
               "--log-format", "console"]
    command += ["--data-dir", str(data_dir)] if data_dir is not None else ["--ephemeral"]
    env = dict(os.environ)
    if duckdb_home is not None:
        env[DUCKDB_HOME_ENV] = str(duckdb_home)
    if not detach:
        env[PARENT_ENV] = str(os.getpid())  # the emulator stops when this process is gone
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=detach, close_fds=True)
    emulator = RunningEmulator(process.pid, rest_port, grpc_port, str(data_dir) if data_dir else None, str(log))
    with progress("starting the BigQuery emulator"):
        _wait_until_healthy(process, emulator, log)
    return emulator


def _wait_until_healthy(process: subprocess.Popen, emulator: RunningEmulator, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SEC
    while not healthy(emulator.url, timeout=0.25):
        if process.poll() is not None:
            raise BigflowError(_diagnose(log, process.returncode, emulator))
        if time.monotonic() > deadline:
            _terminate(process.pid)
            raise BigflowError(f"the BigQuery emulator did not answer on {emulator.url} within "
                               f"{START_TIMEOUT_SEC:.0f} s; see {log}")
        time.sleep(0.03)


def _diagnose(log: Path, returncode: int, emulator: RunningEmulator) -> str:
    """One line saying why the emulator process exited, and how to fix it."""
    text = log.read_text(errors="replace") if log.exists() else ""
    marker = re.search(r"bigflow-emulator-error: (.*)", text)
    if marker:
        return marker.group(1).strip()
    if "spatial" in text and ("INSTALL/LOAD spatial failed" in text or "Failed to download extension" in text):
        return ("cannot start the BigQuery emulator: the DuckDB 'spatial' extension cannot be loaded offline; "
                "install the wheel matching duckdb: pip install 'bigflow-bigquery[emulator]'")
    lock = re.search(r"Could not set lock on file \"?([^\"\n]+?)\"?[:.].*?PID (\d+)", text, re.DOTALL)
    if lock or "Could not set lock" in text:
        who = f" (pid {lock.group(2)})" if lock else ""
        return (f"cannot start the BigQuery emulator: its data in {emulator.data_dir} is in use by another "
                f"process{who}; stop it (bigflow bigquery emulator stop) or set bigquery_emulator_dir")
    if "address already in use" in text.lower() or "Errno 98" in text:
        return (f"cannot start the BigQuery emulator: port {emulator.rest_port} or {emulator.grpc_port} on "
                f"{HOST} is already in use; choose another port (bigquery_emulator_port / --port)")
    last = [line for line in text.splitlines() if line.strip()][-1:] or [f"exit code {returncode}"]
    return f"the BigQuery emulator exited with code {returncode}: {last[0].strip()[:300]} (log: {log})"


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll until it is gone
            if not _pid_alive(pid):
                return
            finished = 0
        if finished == pid:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop(emulator: RunningEmulator) -> None:
    """Stop an emulator process (idempotent)."""
    _terminate(emulator.pid)


# --------------------------------------------------------------------------------------------- project emulator


class ProjectEmulator:
    """The emulator of one data directory: the detached one recorded there, else one owned by this process."""

    _owned: dict[Path, RunningEmulator] = {}
    _lock = threading.Lock()

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.data_dir = self.directory / "data"
        self.state_file = self.directory / STATE_FILE
        self.log = self.directory / LOG_FILE

    _answered: set[RunningEmulator] = set()

    def recorded(self) -> RunningEmulator | None:
        """The detached emulator recorded in the directory, when it still runs (asked once per process)."""
        try:
            state = json.loads(self.state_file.read_text())
            emulator = RunningEmulator(**state)
        except (OSError, ValueError, TypeError):
            return None
        if not _pid_alive(emulator.pid):
            return None
        if emulator not in self._answered:
            if not emulator.healthy():
                return None
            self._answered.add(emulator)
        return emulator

    def running(self) -> RunningEmulator | None:
        owned = self._owned.get(self.directory)
        if owned is not None and _pid_alive(owned.pid):
            return owned
        return self.recorded()

    def url(self, port: int | None = None) -> str:
        """The URL of this directory's emulator, starting one for this process when none runs."""
        with self._lock:
            emulator = self.running()
            if emulator is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                emulator = start(data_dir=self.data_dir, rest_port=port, log=self.log)
                self._owned[self.directory] = emulator
                if len(self._owned) == 1:
                    atexit.register(stop_owned)
            return emulator.url

    def start_detached(self, port: int | None = None, fresh: bool = False) -> tuple[RunningEmulator, bool]:
        """Start the directory's emulator in the background; ``(emulator, started)`` (False: it already ran)."""
        with self._lock:
            if fresh:
                self.stop()
                self.reset()
            running = self.running()
            if running is not None:
                return running, False
            self.directory.mkdir(parents=True, exist_ok=True)
            emulator = start(data_dir=self.data_dir, rest_port=port, log=self.log, detach=True)
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(emulator)))
            temporary.replace(self.state_file)
            return emulator, True

    def stop(self) -> RunningEmulator | None:
        """Stop the directory's emulator (the recorded one or this process's); returns what was stopped."""
        owned = self._owned.pop(self.directory, None)
        emulator = owned or self.recorded()
        if emulator is not None:
            stop(emulator)
        self.state_file.unlink(missing_ok=True)
        return emulator

    def reset(self) -> None:
        """Delete the emulator's data (it must not be running)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)


def stop_owned() -> None:
    """Stop every emulator this process started for a project (registered with ``atexit``)."""
    for directory in list(ProjectEmulator._owned):
        stop(ProjectEmulator._owned.pop(directory))
