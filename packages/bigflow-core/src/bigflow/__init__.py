"""bigflow: one shape for data projects on Google Cloud.

Public names are imported lazily, so ``bigflow --help`` does not pay for the workflow model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from bigflow.version import PLUGIN_API_VERSION, __version__

_LAZY = {
    "Workflow": "bigflow.workflow",
    "Job": "bigflow.workflow",
    "JobContext": "bigflow.workflow",
    "Definition": "bigflow.workflow",
    "daily_start_time": "bigflow.workflow",
    "hourly_start_time": "bigflow.workflow",
    "Config": "bigflow.configuration",
    "DeploymentConfig": "bigflow.configuration",
    "hookimpl": "bigflow.plugins",
}
_SUBMODULES = {"workflow", "configuration", "executor", "plugins", "jobs", "project", "artifacts", "log",
               "bigquery", "dataflow", "dataproc", "errors", "versioning"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"bigflow.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bigflow' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["PLUGIN_API_VERSION", "__version__", *_LAZY]
