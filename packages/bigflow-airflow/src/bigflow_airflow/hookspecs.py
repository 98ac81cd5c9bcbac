"""bigflow-airflow's own hooks, added to bigflow's plugin host: ``register_dag_renderers`` and
``start_rehearsal_services``.

bigflow-airflow adds it with core's ``register_hookspecs`` hook, so a plugin implements it like any core hook,
with ``bigflow.api.hookimpl``, in its usual ``bigflow`` hook module::

    from bigflow.api import hookimpl

    @hookimpl
    def register_dag_renderers(register):
        register("cloud-run", CloudRunRenderer())

Same discovery, isolation and ``BIGFLOW_DISABLE_PLUGINS`` as every hook; no extra entry point is needed.
A plugin that does not depend on bigflow-airflow marks its implementation ``@hookimpl(optionalhook=True)``:
without bigflow-airflow it is never called, and no error. ``bigflow_airflow.hookspecs.hookimpl`` is the same
marker, kept for plugins written against 0.x.
"""

from __future__ import annotations

from typing import Any

from bigflow.api import hookimpl, hookspec

__all__ = ["hookimpl", "register_dag_renderers", "start_rehearsal_services"]


@hookspec
def register_dag_renderers(register: Any) -> None:
    """Contribute DAG renderers, chosen per environment with the ``airflow_operator`` key.

    Called the first time a DAG is rendered (``bigflow build dags``).

    :param register: ``register(name, renderer)``; ``renderer.render(spec: bigflow_airflow.spec.DagSpec) -> str``
        returns the DAG file's text; ``renderer.needs_image`` (default True) says whether the DAG runs the
        project image. ``bigflow_airflow.render.PythonDagRenderer`` is a base to start from.
    """


@hookspec
def start_rehearsal_services(environment: Any) -> str | None:
    """Start the services on this machine that an environment's settings point the jobs at (e.g. an emulator at
    ``http://127.0.0.1:PORT``), so that the containers of a rehearsal find them and share them.

    Called by ``bigflow airflow rehearse`` once per rehearsal, before Airflow starts, in the project's directory.
    A service started here keeps running after the rehearsal (what the jobs wrote can be read afterwards), as one
    started by hand; an implementation says how to stop it. Raise ``bigflow.api.BigflowError`` (one line) when a
    service cannot start: the rehearsal stops before any task runs. Mark the implementation
    ``@hookimpl(optionalhook=True)`` when the plugin does not depend on bigflow-airflow. Return one line saying
    what runs where (printed on stderr), or None when the environment names none of the plugin's services.

    :param environment: the rehearsed environment (``bigflow.api.Environment``).
    """
