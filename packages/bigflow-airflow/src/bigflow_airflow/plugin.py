"""Hook implementations of the bigflow-airflow plugin (kept light: engine imports happen inside hooks)."""

from __future__ import annotations

from typing import Any

from bigflow.api import hookimpl


@hookimpl
def register_artifact_builders(register: Any) -> None:
    from bigflow_airflow.builder import DagsBuilder

    register("dags", DagsBuilder())


@hookimpl
def register_deploy_targets(register: Any) -> None:
    from bigflow_airflow.composer import ComposerTarget
    from bigflow_airflow.local import LocalAirflowTarget

    register("composer", ComposerTarget())
    register("local-airflow", LocalAirflowTarget())


@hookimpl
def register_commands(register: Any) -> None:
    from bigflow_airflow.cli import airflow

    register("airflow", airflow)


@hookimpl
def register_hookspecs(register: Any) -> None:
    from bigflow_airflow import hookspecs

    register(hookspecs)


@hookimpl
def register_dag_renderers(register: Any) -> None:
    from bigflow_airflow.render import BUILTIN

    for name, renderer in BUILTIN.items():
        register(name, renderer)


@hookimpl
def register_settings(register: Any) -> None:
    from bigflow_airflow.settings import SETTINGS

    for setting in SETTINGS:
        register(setting.name, setting)
