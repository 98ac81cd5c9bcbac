"""bigflow: one shape for data projects on Google Cloud.

Public names are imported lazily, so ``bigflow --help`` does not pay for the workflow model.
"""

from __future__ import annotations

from bigflow.lazy import lazy_exports
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
               "bigquery", "dataflow", "dataproc", "errors", "versioning", "resources", "commons", "testing"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, _SUBMODULES)

__all__ = ["PLUGIN_API_VERSION", "__version__", *_LAZY]
