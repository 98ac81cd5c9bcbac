"""PySpark jobs for bigflow: local, standalone cluster and Dataproc.

``PySparkJob`` runs a driver with a SparkSession on the engine the environment's ``spark_master`` chooses;
``job_context()`` gives a driver file the context of its job. Names are imported lazily, so loading the
plugin does not import Spark or the Google clients.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "PySparkJob": "bigflow_spark.jobs",
    "job_context": "bigflow_spark.driver",
}

__all__ = ["PySparkJob", "job_context"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bigflow_spark' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
