"""PySpark jobs for bigflow: local, standalone cluster and Dataproc.

``PySparkJob`` runs a driver with a SparkSession on the engine the environment's ``spark_master`` chooses;
``job_context()`` gives a driver file the context of its job. Names are imported lazily, so loading the
plugin does not import Spark or the Google clients.
"""

from __future__ import annotations

from bigflow.api import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "PySparkJob": "bigflow_spark.jobs",
    "job_context": "bigflow_spark.driver",
}

__all__ = ["PySparkJob", "job_context"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
