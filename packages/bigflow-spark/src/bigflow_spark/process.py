"""Running a generated driver file in a Spark driver subprocess (local and standalone engines).

The subprocess gets its own process group, so the driver, the JVM it starts and any Python workers are
stopped together on success, failure, timeout or interrupt: no Spark process outlives the job.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from bigflow.api import BigflowError, progress
from bigflow_spark.driver import SESSION_MARKER
from bigflow_spark.spec import render_main

logger = logging.getLogger("bigflow_spark.driver")

# Driver subprocesses still running; stopped when this process exits (e.g. after the executor abandoned a
# timed-out job's thread). If this process is killed, the driver gets SIGTERM from the kernel instead.
_running: set[subprocess.Popen] = set()
atexit.register(lambda: [stop_group(process, grace=2.0) for process in list(_running)])


class SparkJobTimeout(BigflowError, TimeoutError):
    """The job ran longer than its ``execution_timeout_sec``; its Spark processes were stopped."""


def run_driver_process(spec: dict[str, Any], environ: Mapping[str, str], timeout: float | None) -> Any:
    """Run ``spec`` in a subprocess; return the driver's return value or raise a one-line BigflowError."""
    job_id = spec["app_name"]
    with tempfile.TemporaryDirectory(prefix="bigflow-spark-") as work:
        result_path = Path(work) / "result.json"
        main = Path(work) / "driver.py"
        main.write_text(render_main({**spec, "result_path": str(result_path), "parent_pid": os.getpid()}))
        tail: collections.deque[str] = collections.deque(maxlen=200)
        process = subprocess.Popen([sys.executable, str(main)], env=dict(environ), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        _running.add(process)
        with progress(f"PySparkJob {job_id!r}: starting the Spark session") as shown:

            def started() -> None:
                shown.update(f"PySparkJob {job_id!r}: running the driver")

            readers = [threading.Thread(target=_forward_stdout, args=(process.stdout,), daemon=True),
                       threading.Thread(target=_collect_stderr, args=(process.stderr, tail, started), daemon=True)]
            for reader in readers:
                reader.start()
            try:
                returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise SparkJobTimeout(f"PySparkJob {job_id!r} timed out after {timeout:g}s "
                                      "(execution_timeout_sec); its Spark processes were stopped") from None
            finally:
                stop_group(process)
                _running.discard(process)
                for reader in readers:
                    reader.join(timeout=5)
        if not result_path.exists():
            raise BigflowError(f"PySparkJob {job_id!r}: the Spark driver exited with code {returncode} "
                               f"without a result: {_last_error(tail)}")
        outcome = json.loads(result_path.read_text())
    if not outcome["ok"]:
        where = f" (at {outcome['frame']})" if outcome.get("frame") else ""
        raise BigflowError(f"PySparkJob {job_id!r} failed: {outcome['error']}{where}")
    return outcome.get("value")


def stop_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop every process of the subprocess's group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    pgid = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(pgid):
            if process.poll() is None:
                try:
                    process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.1)
        if not _group_alive(pgid):
            break
    if process.poll() is None:
        process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forward_stdout(stream: IO[str]) -> None:
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()


def _collect_stderr(stream: IO[str], tail: collections.deque[str], started: Callable[[], None]) -> None:
    for line in stream:
        if line.rstrip("\n") == SESSION_MARKER:
            started()
            continue
        tail.append(line.rstrip("\n"))
        logger.debug("%s", line.rstrip("\n"))


def _last_error(tail: collections.deque[str]) -> str:
    lines = [line.strip() for line in tail if line.strip()]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return (errors or lines or ["no output"])[-1][:300]
