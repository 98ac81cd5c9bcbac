"""What the Spark driver process runs: the job's driver, arguments, context and Spark settings as JSON,
and the generated driver file that carries it (run locally, or staged to GCS for Dataproc)."""

from __future__ import annotations

import base64
import functools
import importlib.machinery
import json
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigflow.api import BigflowError

if TYPE_CHECKING:
    from bigflow_spark.jobs import PySparkJob
    from bigflow_spark.settings import SparkSettings


def driver_entry(job_id: str, driver: Callable[..., Any] | Path, *, embed_source: bool = False) -> dict[str, str]:
    """How the driver process finds the driver: ``callable`` (an importable name), ``pickle`` or ``file``."""
    if isinstance(driver, Path):
        entry = {"file": str(driver)}
        if embed_source:
            entry["source"] = driver.read_text()
        return entry
    reference = _importable_name(driver)
    if reference is not None:
        return {"callable": reference}
    return {"pickle": _pickle_by_value(job_id, driver)}


def _importable_name(function: Callable[..., Any]) -> str | None:
    """``module:qualname`` when a fresh interpreter with the same sys.path gets the same object back."""
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    qualname = getattr(function, "__qualname__", "")
    if module is None or module.__name__ == "__main__" or "<" in qualname or not _on_sys_path(module):
        return None
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return f"{module.__name__}:{qualname}" if target is function else None


def _on_sys_path(module: Any) -> bool:
    """Whether the module is found through ``sys.path`` (not only loaded from a file path, like pytest does)."""
    spec = importlib.machinery.PathFinder.find_spec(module.__name__.partition(".")[0], sys.path)
    filename = getattr(module, "__file__", None)
    if spec is None or filename is None:
        return False
    roots = [Path(p) for p in spec.submodule_search_locations or [spec.origin or ""]]
    return any(Path(filename) == root or Path(filename).is_relative_to(root) for root in roots)


def _pickle_by_value(job_id: str, function: Callable[..., Any]) -> str:
    from pyspark import cloudpickle

    target = function.func if isinstance(function, functools.partial) else function
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    # functions of a module a fresh interpreter cannot import (e.g. a test file) travel by value
    by_value = module is not None and module.__name__ != "__main__" and not _on_sys_path(module)
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        data = cloudpickle.dumps(function)
    except Exception as error:  # noqa: BLE001 - anything the pickler rejects
        raise BigflowError(f"PySparkJob {job_id!r}: the driver {function!r} cannot be sent to the Spark driver "
                           f"({type(error).__name__}: {error}); define it as a module-level function") from None
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)
    return base64.b64encode(data).decode()


def base_spec(job: PySparkJob, context: Any, settings: SparkSettings, *,
              embed_source: bool = False) -> dict[str, Any]:
    """The parts of a driver spec every engine shares (``bf_env`` reaches executors too, as in 1.x)."""
    env_conf = {"spark.executorEnv.bf_env": context.env} if context.env else {}
    return {
        "app_name": job.id,
        "driver": driver_entry(job.id, job.resolved_driver(), embed_source=embed_source),
        "args": list(job.driver_args),
        "kwargs": dict(job.driver_kwargs),
        "context": context_entry(context),
        "spark_conf": {**env_conf, **settings.spark_conf, **job.spark_conf},
        "environ": {"bf_env": context.env} if context.env else {},
    }


def context_entry(context: Any) -> dict[str, Any]:
    return {
        "runtime": context.runtime.isoformat(),
        "env": context.env,
        "workflow_id": context.workflow_id,
        "run_id": context.run_id,
        "config": dict(context.config or {}),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(spec: Mapping[str, Any]) -> str:
    try:
        return json.dumps(spec, default=_json_default, sort_keys=True)
    except TypeError as error:
        raise BigflowError(f"PySparkJob {spec.get('app_name')!r}: driver arguments and configuration must be "
                           f"JSON values: {error}") from None


def render_main(spec: Mapping[str, Any]) -> str:
    """The driver file: Python that runs ``spec`` with :func:`bigflow_spark.driver.main`."""
    return (
        f"# Generated by bigflow-spark: the Spark driver of PySparkJob {spec['app_name']!r}.\n"
        "from bigflow_spark.driver import main\n"
        f"main({to_json(spec)!r})\n"
    )
