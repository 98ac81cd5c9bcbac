"""Job types shipped with core: a plain Python callable and a shell command."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bigflow.errors import BigflowError
from bigflow.workflow import Job, JobContext


class PythonJob(Job):
    """Calls ``function(context, *args, **kwargs)`` in-process; its return value is the job's result."""

    def __init__(self, id: str, function: Callable[..., Any], args: Sequence[Any] = (),
                 kwargs: Mapping[str, Any] | None = None, **options: Any) -> None:
        super().__init__(id=id, **options)
        if not callable(function):
            raise BigflowError(f"PythonJob {id!r}: function must be callable, got {function!r}")
        self.function = function
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def execute(self, context: JobContext) -> Any:
        return self.function(context, *self.args, **self.kwargs)


class ShellJob(Job):
    """Runs a command (a list, or a string split like a shell would) and fails on a non-zero exit.

    ``{runtime}``, ``{runtime_str}``, ``{env}``, ``{workflow_id}`` and ``{run_id}`` in the command are
    replaced from the job context; the same values are exported as ``BIGFLOW_*`` environment variables.
    """

    def __init__(self, id: str, command: str | Sequence[str], env: Mapping[str, str] | None = None,
                 cwd: str | None = None, **options: Any) -> None:
        super().__init__(id=id, **options)
        self.command = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.command:
            raise BigflowError(f"ShellJob {id!r}: empty command")
        self.env = dict(env or {})
        self.cwd = cwd

    def execute(self, context: JobContext) -> str:
        values = {
            "runtime": context.runtime.isoformat(), "runtime_str": context.runtime_str,
            "env": context.env or "", "workflow_id": context.workflow_id or "", "run_id": context.run_id or "",
        }
        command = [part.format(**values) for part in self.command]
        environ = {**os.environ, **self.env, **{f"BIGFLOW_{k.upper()}": v for k, v in values.items()}}
        try:
            done = subprocess.run(command, cwd=self.cwd, env=environ, capture_output=True, text=True,
                                  timeout=self.execution_timeout_sec)
        except FileNotFoundError:
            raise BigflowError(f"ShellJob {self.id!r}: command not found: {command[0]!r}") from None
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
            raise BigflowError(f"ShellJob {self.id!r}: {command[0]} exited with {done.returncode}: {last[0]}")
        return done.stdout
