"""Core's artifact builders (package, requirements, image) and what they share: uv, subprocesses, ordering.

The builders are registered by the builtin plugin ``bigflow.builtin.builders``; ``bigflow build`` runs
them through the plugin host like any plugin's builder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from bigflow.errors import BigflowError

#: Builders run first, in this order, by ``bigflow build``; other builders (e.g. ``dags``) follow by name.
CORE_ORDER = ("requirements", "package", "image")
#: Deploy targets deployed first by ``bigflow deploy`` (an image must be pushed before DAGs point at it).
DEPLOY_ORDER = ("image",)


def ordered(names: Iterable[str], first: Sequence[str]) -> list[str]:
    """``names`` with those in ``first`` leading, in that order, then the rest sorted."""
    names = set(names)
    return [n for n in first if n in names] + sorted(names - set(first))


def uv_binary() -> str:
    """The uv executable: the ``uv`` package of this environment, one next to the interpreter, or PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return str(beside)
    found = shutil.which("uv")
    if found:
        return found
    raise BigflowError("uv is needed to lock requirements and build packages: pip install 'bigflow-core[build]'")


def run_streamed(args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None,
                 stream: bool = False) -> tuple[int, str]:
    """Run a tool; its output (stdout and stderr) goes to stderr line by line when ``stream``.

    Returns the exit code and the whole output.
    """
    try:
        process = subprocess.Popen(
            list(args), cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise BigflowError(f"{args[0]} not found; is it installed?") from None
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if stream:
            sys.stderr.write(line)
            sys.stderr.flush()
    return process.wait(), "".join(lines)


def run_tool(args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, what: str,
             stream: bool = False) -> str:
    """Run a build tool and return its output; a non-zero exit is a one-line BigflowError.

    The error names ``what`` failed and the tool's most telling error line.
    """
    code, output = run_streamed(args, cwd=cwd, env=env, stream=stream)
    if code != 0:
        raise BigflowError(f"{what} failed: {last_error_line(output) or f'exit code {code}'}")
    return output


def last_error_line(output: str) -> str:
    """The most telling line of a tool's output: the last one that says error, else the last non-empty."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        lowered = lines[index].lower()
        if lowered.startswith(("error", "×", "fatal")) or "error:" in lowered:
            causes = [re.sub(r"^(╰─▶|cause:)\s*", "", line) for line in lines[index + 1:]
                      if line.startswith(("╰─▶", "cause:"))]
            return ": ".join([lines[index].lstrip("×").strip().rstrip(":"), *causes])
    return lines[-1] if lines else ""
