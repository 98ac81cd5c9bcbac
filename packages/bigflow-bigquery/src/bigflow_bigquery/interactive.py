"""Components (the 1.x API): functions of dataset managers, run now (``.run()``/``.peek()``) or as jobs."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from bigflow.api import BigflowError, JobContext
from bigflow.api import Job as BaseJob
from bigflow_bigquery.config import DatasetConfig
from bigflow_bigquery.dataset import DEFAULT_OPERATION_NAME, DEFAULT_PEEK_LIMIT, DatasetManager, bind

DEFAULT_RUNTIME = "1970-01-01"
DEFAULT_RETRY_COUNT = 3
DEFAULT_RETRY_PAUSE_SEC = 60
INLINE_COMPONENT_DATASET_ALIAS = "_inline_component_dataset"

Dependency = Any  # DatasetConfig | InteractiveDatasetManager | DatasetManager


class NotReadyError(BigflowError, ValueError):
    """A sensor found no rows yet (the job fails; its retries poll)."""


def _parameters(function: Callable[..., Any]) -> list[str]:
    return [name for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)]


def _managers(function: Callable[..., Any], dependencies: Mapping[str, Dependency], env: str | None,
              config: Mapping[str, Any] | None, runtime: Any, **options: Any) -> dict[str, DatasetManager]:
    missing = [name for name in _parameters(function) if name not in dependencies]
    if missing:
        raise BigflowError(
            f"component {function.__name__!r} takes {missing[0]!r} but no dataset was given for it "
            f"(given: {', '.join(dependencies) or 'none'}); pass {missing[0]}=... to @component or the Job"
        )
    return {name: bind(dependencies[name], env, config, runtime, **options) for name in _parameters(function)}


class InteractiveComponent:
    """A component bound to its datasets: ``.run()`` and ``.peek()`` now, ``.to_job()`` for a workflow."""

    def __init__(self, function: Callable[..., Any], dependencies: Mapping[str, Dependency]) -> None:
        self._standard_component = function
        self._dependency_config = dict(dependencies)
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__

    def run(self, runtime: str = DEFAULT_RUNTIME, operation_name: str | None = None) -> Any:
        """Run the component now for ``runtime`` (only the operation ``operation_name`` when given)."""
        managers = _managers(self._standard_component, self._dependency_config, None, None, runtime,
                             operation_name=operation_name)
        return self._standard_component(**managers)

    def peek(self, runtime: str, operation_name: str = DEFAULT_OPERATION_NAME,
             limit: int = DEFAULT_PEEK_LIMIT) -> Any:
        """The first ``limit`` rows an operation would write (a ``DataFrame``), without writing anything."""
        if runtime is None or operation_name is None or limit is None:
            raise BigflowError("peek needs runtime, operation_name and limit")
        managers = _managers(self._standard_component, self._dependency_config, None, None, runtime,
                             operation_name=operation_name, peek=True, peek_limit=limit)
        self._standard_component(**managers)
        for manager in managers.values():
            if manager.results:
                return manager.results[0]
        if operation_name != DEFAULT_OPERATION_NAME:
            raise BigflowError(f"operation {operation_name!r} not found in component {self.__name__!r}")
        raise BigflowError(f"component {self.__name__!r} has several operations: name the one to peek "
                           "(operation_name=...)")

    def to_job(self, id: str | None = None, retry_count: int = DEFAULT_RETRY_COUNT,
               retry_pause_sec: int = DEFAULT_RETRY_PAUSE_SEC,
               dependencies_override: Mapping[str, Dependency] | None = None,
               execution_timeout_sec: int | None = None) -> Job:
        """A workflow job running this component (datasets replaced by ``dependencies_override``)."""
        dependencies = {**self._dependency_config, **(dependencies_override or {})}
        return Job(self._standard_component, id=id, retry_count=retry_count, retry_pause_sec=retry_pause_sec,
                   execution_timeout_sec=execution_timeout_sec, **dependencies)

    def __call__(self, **managers: Any) -> Any:
        return self._standard_component(**managers)

    def __repr__(self) -> str:
        return f"InteractiveComponent({self.__name__})"


def component(**dependencies: Dependency) -> Callable[[Callable[..., Any]], InteractiveComponent]:
    """``@component(ds=dataset)``: the function's parameters receive dataset managers, matched by name."""

    def decorate(function: Callable[..., Any]) -> InteractiveComponent:
        return InteractiveComponent(function, dependencies)

    return decorate


interactive_component = component


class Job(BaseJob):
    """A job running a component with its datasets, in the environment and runtime of the run (1.x)."""

    def __init__(self, component: Callable[..., Any], id: str | None = None,
                 retry_count: int = DEFAULT_RETRY_COUNT, retry_pause_sec: int = DEFAULT_RETRY_PAUSE_SEC,
                 execution_timeout_sec: int | None = None, execution_timeout: int | None = None,
                 **dependency_configuration: Dependency) -> None:
        if isinstance(component, InteractiveComponent):
            dependency_configuration = {**component._dependency_config, **dependency_configuration}
            component = component._standard_component
        super().__init__(id=id or component.__name__, retry_count=retry_count, retry_pause_sec=retry_pause_sec,
                         execution_timeout_sec=execution_timeout_sec or execution_timeout)
        self.component = component
        self.dependency_configuration = dependency_configuration
        _parameters(component)

    def execute(self, context: JobContext) -> Any:
        managers = _managers(self.component, self.dependency_configuration, context.env, context.config,
                             context.runtime_str)
        return self.component(**managers)


def _operation_name(method: str, table_name: str, sql: str) -> str:
    return f"{method}_{table_name}_{hashlib.sha256(sql.encode()).hexdigest()}"


def operation_component(config: DatasetConfig, env: str | None, method: str, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> InteractiveComponent:
    """One dataset operation as a component (what ``dataset.write_truncate(...)`` returns)."""
    from bigflow_bigquery.dataset import InteractiveDatasetManager

    takes_name = "operation_name" in inspect.signature(getattr(DatasetManager, method)).parameters
    options = {"operation_name": DEFAULT_OPERATION_NAME, **kwargs} if takes_name else kwargs

    def operation(_inline_component_dataset: DatasetManager) -> Any:
        return getattr(_inline_component_dataset, method)(*args, **options)

    strings = [a for a in (*args, *kwargs.values()) if isinstance(a, str)]
    table = kwargs.get("table_name") or (args[0] if args and method not in ("collect", "collect_list", "dry_run",
                                                                           "create_table") else "")
    operation.__name__ = _operation_name(method, str(table), strings[-1] if strings else "")
    return InteractiveComponent(operation, {INLINE_COMPONENT_DATASET_ALIAS: InteractiveDatasetManager(config, env)})


def sensor(table_alias: str, where_clause: str, ds: Dependency | None = None) -> Any:
    """A component ``wait_for_<alias>`` failing until ``table_alias`` has rows matching ``where_clause``.

    Without ``ds`` it returns the plain function (for ``@component``-style use); with it, a component.
    Poll by giving its job retries: ``.to_job(retry_count=144, retry_pause_sec=600)``.
    """

    def wait(ds: DatasetManager) -> None:
        frame = ds.collect(f"SELECT count(*) > 0 AS table_ready\nFROM `{{{table_alias}}}`\nWHERE {where_clause}")
        if frame.empty:  # an operation not selected by .run(operation_name=...)
            return
        if not bool(frame.iloc[0]["table_ready"]):
            raise NotReadyError(f"{table_alias} is not ready: no rows where {where_clause} (dt={ds.dt})")

    wait.__name__ = f"wait_for_{table_alias}"
    return wait if ds is None else component(ds=ds)(wait)


sensor_component = sensor


def add_label(table_name: str, labels: dict[str, str], ds: Dependency | None = None) -> Any:
    """Deprecated 1.x helper: set labels on a table (prefer ``tables_labels`` in ``DatasetConfig``)."""

    def add_label(ds: DatasetManager) -> Any:
        table = ds.client.get_table(f"{ds.project_id}.{ds.dataset_name}.{table_name}")
        if getattr(ds, "peeking", False):  # 1.x code may pass any object with a client
            return table  # .peek() writes nothing
        table.labels = labels
        return ds.client.update_table(table, ["labels"])

    return add_label if ds is None else component(ds=ds)(add_label)


add_label_component = add_label
