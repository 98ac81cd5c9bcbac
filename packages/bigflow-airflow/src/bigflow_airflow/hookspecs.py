"""bigflow-airflow's own hook: ``register_dag_renderers`` (a DAG renderer per operator style).

Core's plugin contract has no hook for DAG renderers, so bigflow-airflow defines one under its own pluggy
project name, ``bigflow_airflow``. Core ignores functions marked for another project, so a plugin puts the
implementation in its usual ``bigflow`` hook module, next to its core hooks::

    from bigflow_airflow.hookspecs import hookimpl as airflow_hookimpl

    @airflow_hookimpl
    def register_dag_renderers(register):
        register("cloud-run", CloudRunRenderer())

bigflow-airflow collects it from the hook modules core has loaded (same discovery, isolation and
``BIGFLOW_DISABLE_PLUGINS``); no extra entry point is needed.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "bigflow_airflow"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_dag_renderers(register: Any) -> None:
    """Contribute DAG renderers, chosen per environment with the ``airflow_operator`` key.

    :param register: ``register(name, renderer)``; ``renderer.render(spec: bigflow_airflow.spec.DagSpec) -> str``
        returns the DAG file's text; ``renderer.needs_image`` (default True) says whether the DAG runs the
        project image. ``bigflow_airflow.render.PythonDagRenderer`` is a base to start from.
    """
