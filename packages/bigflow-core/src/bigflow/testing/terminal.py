"""Run a command as on a user's terminal, to test what bigflow shows there (spinners, progress, colours).

``on_a_terminal([sys.executable, "-c", code], env={...})`` runs it with stdin, stdout and stderr on one
pseudo-terminal and returns everything it wrote (escape sequences included) and its exit code.
"""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def on_a_terminal(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
                  timeout: float = 120) -> tuple[int, str]:
    """``(exit code, everything written)`` of ``argv`` run on a pseudo-terminal 100 columns wide."""
    leader, follower = pty.openpty()
    environ = {**os.environ, "TERM": "xterm", "COLUMNS": "100", **(env or {})}
    process = subprocess.Popen(list(argv), stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=environ,
                               close_fds=True)
    os.close(follower)
    chunks = []
    try:
        while chunk := os.read(leader, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: every writer is gone
        pass
    finally:
        os.close(leader)
    return process.wait(timeout), b"".join(chunks).decode(errors="replace")
