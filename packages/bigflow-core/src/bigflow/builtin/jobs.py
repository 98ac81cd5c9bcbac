"""Builtin plugin: the job types core ships (a plain Python callable and a shell command)."""

from __future__ import annotations

from bigflow.plugins import hookimpl


@hookimpl
def register_job_types(register):
    from bigflow.jobs import PythonJob, ShellJob

    register("python", PythonJob)
    register("shell", ShellJob)
