"""``PySparkJob``: a PySpark driver run as a bigflow job, on the engine the environment's config chooses."""

from __future__ import annotations

import difflib
import inspect
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bigflow.api import BigflowError, Job, JobContext, Project, find_project
from bigflow_spark.settings import conf_value, read_settings

logger = logging.getLogger(__name__)

Driver = Callable[..., Any] | str | os.PathLike[str]

# BigFlow 1.x ``bigflow.dataproc.PySparkJob`` arguments accepted as keywords.
_LEGACY = {"driver_arguments", "bucket_id", "gcp_project_id", "gcp_region", "jar_file_uris", "worker_num_instances",
           "worker_machine_type", "env", "setup_file", "execution_timeout"}
_IGNORED_LEGACY = {"worker_machine_type", "env", "setup_file"}


class PySparkJob(Job):
    """Runs ``driver(spark, context, *args, **kwargs)`` with a SparkSession, where ``spark_master`` says.

    :param driver: a function, or the path of a ``.py`` file (absolute, or relative to the project root) run
        as ``__main__`` with ``sys.argv = [path, *driver_args]``; it gets the context from
        ``bigflow_spark.job_context()``. A function whose first parameter is named ``context`` is called
        BigFlow 1.x style: ``driver(context, *args, **kwargs)`` (it gets the session with
        ``SparkSession.builder.getOrCreate()``).
    :param driver_args: positional arguments (a sequence) or keyword arguments (a mapping) of the driver;
        JSON values.
    :param spark_conf: Spark properties of this job, over the environment's ``spark_conf``.
    :param pip_packages: requirements the driver needs (a list, or the path of a requirements file): checked
        locally, shipped to Dataproc when no container image is used.
    :param jars: jar files or URIs added to the Spark classpath (``gs://`` ones only on Dataproc).
    """

    def __init__(self, id: str, driver: Driver, driver_args: Sequence[Any] | Mapping[str, Any] = (),
                 spark_conf: Mapping[str, Any] | None = None, pip_packages: Iterable[str] | os.PathLike[str] = (),
                 jars: Iterable[str] = (), *, execution_timeout_sec: int | None = None,
                 retry_count: int | None = None, retry_pause_sec: int | None = None, **legacy: Any) -> None:
        unknown = sorted(set(legacy) - _LEGACY)
        if unknown:
            valid = ["driver_args", "spark_conf", "pip_packages", "jars", "execution_timeout_sec", *_LEGACY]
            close = difflib.get_close_matches(unknown[0], valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BigflowError(f"PySparkJob {id!r}: unknown argument {unknown[0]!r}{hint}")
        if legacy.get("execution_timeout") is not None and execution_timeout_sec is None:
            execution_timeout_sec = legacy["execution_timeout"]
        super().__init__(id=id, execution_timeout_sec=execution_timeout_sec, retry_count=retry_count,
                         retry_pause_sec=retry_pause_sec)
        if not (callable(driver) or isinstance(driver, str | os.PathLike)):
            raise BigflowError(f"PySparkJob {id!r}: driver must be a function or the path of a .py file, "
                               f"got {driver!r}")
        self.driver = driver
        driver_args = legacy.get("driver_arguments") or driver_args
        if isinstance(driver_args, Mapping):
            self.driver_args: tuple[Any, ...] = ()
            self.driver_kwargs: dict[str, Any] = dict(driver_args)
        elif isinstance(driver_args, str):
            raise BigflowError(f"PySparkJob {id!r}: driver_args must be a list or a mapping, got {driver_args!r}")
        else:
            self.driver_args, self.driver_kwargs = tuple(driver_args), {}
        if self.driver_kwargs and not callable(driver):
            raise BigflowError(f"PySparkJob {id!r}: a driver file takes a list of arguments (sys.argv), "
                               f"not a mapping")
        self.spark_conf = {str(k): conf_value(v) for k, v in (spark_conf or {}).items()}
        if legacy.get("worker_num_instances") is not None:
            self.spark_conf.setdefault("spark.executor.instances", str(legacy["worker_num_instances"]))
        self.pip_packages = _requirements(pip_packages)
        self.jars = [*jars, *(legacy.get("jar_file_uris") or ())]
        self.overrides = {"gcp_project_id": legacy.get("gcp_project_id"), "region": legacy.get("gcp_region"),
                          "dataproc_staging_location": legacy.get("bucket_id") and f"gs://{legacy['bucket_id']}"}
        for name in sorted(_IGNORED_LEGACY & set(legacy)):
            logger.warning("PySparkJob %r: BigFlow 1.x argument %r is ignored", id, name)

    def execute(self, context: JobContext) -> Any:
        from bigflow_spark.engines import engine_for

        settings = read_settings(context.environment or context.config or {}, self.overrides)
        logger.info("PySparkJob %r on %s", self.id, settings.master)
        return engine_for(settings).run(self, context)

    def _driver_location(self) -> Path | None:
        if callable(self.driver):
            try:
                return Path(inspect.getfile(inspect.unwrap(getattr(self.driver, "func", self.driver)))).parent
            except (TypeError, OSError):
                return None
        path = Path(self.driver)
        return path.parent if path.is_absolute() else None

    def project(self) -> Project | None:
        """The bigflow project around the driver (else around the current directory)."""
        location = self._driver_location()
        return (find_project(location) if location else None) or find_project(Path.cwd())

    def package_dir(self) -> Path | None:
        """The package executors must import: the project's, else the top-level package of the driver
        function (e.g. the project installed in an image)."""
        project = self.project()
        if project is not None:
            return project.package_dir
        module = sys.modules.get(getattr(self.driver, "__module__", "") or "")
        top = sys.modules.get(module.__name__.partition(".")[0]) if module else None
        paths = list(getattr(top, "__path__", []))
        return Path(paths[0]) if paths and top.__name__ not in ("bigflow", "bigflow_spark") else None

    def resolved_driver(self) -> Callable[..., Any] | Path:
        """The driver function, or the absolute path of the driver file (which must exist)."""
        if callable(self.driver):
            return self.driver
        path = Path(self.driver)
        if not path.is_absolute():
            project = find_project(Path.cwd())
            path = (project.root if project else Path.cwd()) / path
        if not path.is_file():
            raise BigflowError(f"PySparkJob {self.id!r}: driver file {path} not found "
                               "(a relative path is resolved against the project root)")
        return path

    def local_jars_conf(self) -> dict[str, str]:
        """``spark.jars`` for the jars a local Spark can load (``gs://`` ones need Dataproc)."""
        local = [j for j in self.jars if not j.startswith("gs://")]
        for skipped in (j for j in self.jars if j.startswith("gs://")):
            logger.warning("PySparkJob %r: jar %s is only used on Dataproc", self.id, skipped)
        return {"spark.jars": ",".join(local)} if local else {}


def _requirements(pip_packages: Iterable[str] | os.PathLike[str]) -> list[str]:
    if isinstance(pip_packages, os.PathLike):  # a requirements file, as in 1.x (pip-compile output too)
        requirements = []
        for line in Path(pip_packages).read_text().splitlines():
            line = re.split(r"(^|\s)(#|-)", line)[0].strip().rstrip("\\").strip()  # comments, options, "\\"
            if line:
                requirements.append(line)
        return requirements
    if isinstance(pip_packages, str):
        return [pip_packages]
    return list(pip_packages)
