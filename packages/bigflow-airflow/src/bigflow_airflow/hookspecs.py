"""bigflow-airflow's own hook, added to bigflow's plugin host: ``register_dag_renderers``.

bigflow-airflow adds it with core's ``register_hookspecs`` hook, so a plugin implements it like any core hook,
with ``bigflow.api.hookimpl``, in its usual ``bigflow`` hook module::

    from bigflow.api import hookimpl

    @hookimpl
    def register_dag_renderers(register):
        register("cloud-run", CloudRunRenderer())

Same discovery, isolation and ``BIGFLOW_DISABLE_PLUGINS`` as every hook; no extra entry point is needed.
``bigflow_airflow.hookspecs.hookimpl`` is the same marker, kept for plugins written against 0.x.
"""

from __future__ import annotations

from typing import Any

from bigflow.api import hookimpl, hookspec

__all__ = ["hookimpl", "register_dag_renderers"]


@hookspec
def register_dag_renderers(register: Any) -> None:
    """Contribute DAG renderers, chosen per environment with the ``airflow_operator`` key.

    Called the first time a DAG is rendered (``bigflow build dags``).

    :param register: ``register(name, renderer)``; ``renderer.render(spec: bigflow_airflow.spec.DagSpec) -> str``
        returns the DAG file's text; ``renderer.needs_image`` (default True) says whether the DAG runs the
        project image. ``bigflow_airflow.render.PythonDagRenderer`` is a base to start from.
    """
