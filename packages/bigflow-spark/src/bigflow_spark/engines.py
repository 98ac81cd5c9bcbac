"""Engines that run a PySparkJob's driver on this machine: local Spark, or a client of a standalone cluster."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigflow.api import BigflowError
from bigflow_spark.java import java_home
from bigflow_spark.packaging import check_installed, package_zip
from bigflow_spark.process import run_driver_process
from bigflow_spark.settings import SparkSettings
from bigflow_spark.spec import base_spec

if TYPE_CHECKING:
    from bigflow_spark.jobs import PySparkJob

logger = logging.getLogger(__name__)

LOCAL_DEFAULTS = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalEngine:
    """``local[*]``: the driver in a subprocess with the project on its path, Spark bound to 127.0.0.1, UI off."""

    def __init__(self, settings: SparkSettings) -> None:
        self.settings = settings

    def environ(self, loopback: bool = True) -> dict[str, str]:
        environ = dict(os.environ)
        environ["JAVA_HOME"] = str(java_home())
        if loopback:
            environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        environ.setdefault("PYSPARK_PYTHON", sys.executable)
        environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        environ["PYTHONUNBUFFERED"] = "1"
        paths = [str(Path(p).resolve()) for p in sys.path if p and Path(p).is_dir()]
        environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([str(Path.cwd()), *paths]))
        return environ

    def spec(self, job: PySparkJob, context: Any) -> dict[str, Any]:
        spec = base_spec(job, context, self.settings)
        spec["master"] = self.settings.master
        spec["spark_conf"] = {**LOCAL_DEFAULTS, **job.local_jars_conf(), **spec["spark_conf"]}
        return spec

    def run(self, job: PySparkJob, context: Any) -> Any:
        check_installed(job.pip_packages, job.id)
        spec = self.spec(job, context)
        return run_driver_process(spec, self.environ(), job.execution_timeout_sec)


class StandaloneEngine(LocalEngine):
    """``spark://host:port``: the driver runs here in client mode; executors get the project package as a zip."""

    def check_reachable(self) -> None:
        errors = []
        for host, port in self.settings.standalone_addresses:
            try:
                with socket.create_connection((host, port), timeout=5):
                    return
            except OSError as error:
                errors.append(error.strerror or str(error))
        raise BigflowError(f"Spark master {self.settings.master} is unreachable ({'; '.join(errors)}): start it, "
                           "or set spark_master to a running master (or 'local[*]')")

    def run(self, job: PySparkJob, context: Any) -> Any:
        check_installed(job.pip_packages, job.id)
        self.check_reachable()
        loopback = all(_is_loopback(host) for host, _ in self.settings.standalone_addresses)
        spec = self.spec(job, context)
        with tempfile.TemporaryDirectory(prefix="bigflow-spark-pkg-") as work:
            package_dir = job.package_dir()
            if package_dir is not None:
                spec["py_files"] = [str(package_zip(package_dir, Path(work))[0])]
            else:
                logger.warning("PySparkJob %r: no bigflow project found; executors get no project code", job.id)
            return run_driver_process(spec, self.environ(loopback), job.execution_timeout_sec)


def engine_for(settings: SparkSettings, **clients: Any) -> Any:
    """The engine of the settings; ``clients`` go to the Dataproc engine (tests inject fakes there)."""
    if settings.engine == "dataproc":
        from bigflow_spark.dataproc import DataprocEngine

        return DataprocEngine(settings, **clients)
    return StandaloneEngine(settings) if settings.engine == "standalone" else LocalEngine(settings)
