"""The DAG renderers of every loaded plugin, collected on the host through ``register_dag_renderers``."""

from __future__ import annotations

from typing import Any, Protocol

from bigflow.api import BigflowError, PluginError, collect
from bigflow_airflow.spec import DagSpec


class DagRenderer(Protocol):
    """What ``register_dag_renderers`` registers."""

    def render(self, spec: DagSpec) -> str: ...


def renderers() -> dict[str, tuple[Any, str]]:
    """name -> (renderer, providing plugin); a name two plugins register maps to (None, "a, b")."""
    return {name: (item.obj, item.plugin) for name, item in collect("register_dag_renderers", "DAG renderer").items()}


def renderer(name: str, env: str) -> Any:
    """The renderer named by ``airflow_operator``; a one-line error when unknown or ambiguous."""
    found = renderers()
    if name not in found:
        import difflib

        close = difflib.get_close_matches(name, found, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(found))}"
        raise BigflowError(f"airflow_operator {name!r} of environment {env!r} is not a known DAG renderer; {hint}")
    obj, owner = found[name]
    if obj is None:
        raise PluginError(f"DAG renderer {name!r} is provided by several plugins ({owner}); "
                          "disable one with BIGFLOW_DISABLE_PLUGINS")
    return obj
