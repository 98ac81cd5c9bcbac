"""``bigflow run --from START --to END``: one run per runtime of the workflow's schedule, in order.

Each runtime runs as a ``bigflow run --runtime R`` child process (its output and logs go to this process's
stdout and stderr as they come; it writes its JSON summary to a file, ``--summary-file``), so runs of different runtimes share nothing
and a Ctrl-C reaches them all. Runtimes run one at a time, unless the workflow allows several at once
(``depends_on_past=False`` and ``max_active_runs`` > 1): then up to ``parallel`` of them run together, in order
of start. A failed runtime stops the backfill (runtimes not started are ``skipped``) unless
``continue_on_failure``; with ``depends_on_past`` the runtimes after a failed one are always ``skipped``, as
Airflow would not start them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bigflow import runtimes

SUCCESS, FAILED, CANCELLED, SKIPPED = "success", "failed", "cancelled", "skipped"
GRACE_SEC = 2.0  # after Ctrl-C, how long children may take to stop on their own before they get SIGINT


@dataclass
class RuntimeRun:
    """The outcome of one runtime: ``state`` and the child's JSON summary (``None`` when it did not run)."""

    runtime: datetime
    state: str = SKIPPED
    duration: float = 0.0
    summary: dict[str, Any] | None = None
    started: float = field(default=0.0, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"runtime": runtimes.format(self.runtime), "state": self.state, "duration": round(self.duration, 3),
                "run": self.summary}


class Backfill:
    """Runs ``command + ["--runtime", R, "--summary-file", F]`` for every runtime (see the module docstring)."""

    def __init__(self, command: Sequence[str], moments: Sequence[datetime], *, parallel: int,
                 continue_on_failure: bool, depends_on_past: bool) -> None:
        self.command, self.parallel = list(command), parallel
        self.keep_going = continue_on_failure and not depends_on_past
        self.runs = [RuntimeRun(moment) for moment in moments]
        self.running: dict[subprocess.Popen[bytes], tuple[RuntimeRun, Path]] = {}

    def run(self) -> bool:
        """Run the runtimes; True when Ctrl-C stopped the backfill."""
        with tempfile.TemporaryDirectory(prefix="bigflow-backfill-") as work:
            try:
                self._loop(Path(work))
                return False
            except KeyboardInterrupt:  # a terminal's Ctrl-C reached the children too; else pass it on
                deadline = time.monotonic() + GRACE_SEC
                while any(child.poll() is None for child in self.running) and time.monotonic() < deadline:
                    time.sleep(0.02)
                for child in self.running:
                    if child.poll() is None:
                        child.send_signal(signal.SIGINT)  # it stops its jobs and writes its summary
                for child in list(self.running):
                    self._finish(child)
                return True

    def _loop(self, work: Path) -> None:
        waiting = list(self.runs)
        stopped = False
        while waiting or self.running:
            while waiting and not stopped and len(self.running) < self.parallel:
                run = waiting.pop(0)
                run.started = time.monotonic()
                summary = work / f"{len(self.runs) - len(waiting)}.json"
                child = subprocess.Popen([*self.command, "--runtime", runtimes.format(run.runtime),
                                          "--summary-file", str(summary)])
                self.running[child] = (run, summary)
            if not self.running:
                return
            finished = self._next_finished()
            run = self._finish(finished)
            stopped = stopped or (run.state != SUCCESS and not self.keep_going)

    def _next_finished(self) -> subprocess.Popen[bytes]:
        while True:
            for child in self.running:
                if child.poll() is not None:
                    return child
            time.sleep(0.02)

    def _finish(self, child: subprocess.Popen[bytes]) -> RuntimeRun:
        run, summary = self.running.pop(child)
        child.wait()
        run.duration = time.monotonic() - run.started
        try:
            run.summary = json.loads(summary.read_text())
        except (OSError, ValueError):
            run.summary = None  # the child failed before it ran anything (its one-line error is on stderr)
        run.state = SUCCESS if child.returncode == 0 else CANCELLED if child.returncode == 130 else FAILED
        return run
