"""The DAG renderers of every loaded plugin, collected through ``register_dag_renderers``."""

from __future__ import annotations

import weakref
from typing import Any, Protocol

from bigflow.errors import BigflowError, PluginError
from bigflow_airflow.spec import DagSpec


class DagRenderer(Protocol):
    """What ``register_dag_renderers`` registers."""

    def render(self, spec: DagSpec) -> str: ...


_cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, str]]] = weakref.WeakKeyDictionary()


def _collect() -> dict[str, tuple[Any, str]]:
    """name -> (renderer, providing plugin); a name two plugins register maps to (None, "a, b")."""
    import pluggy

    from bigflow import plugins
    from bigflow.plugins.manager import OK, warn
    from bigflow_airflow import hookspecs

    host = plugins.host().load()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    owners: dict[str, str] = {}
    for plugin in host.plugins:
        if plugin.status != OK:
            continue
        for index, obj in enumerate(plugin.objects):
            name = f"{plugin.name}:{index}"
            if pm.is_registered(obj):
                continue
            pm.register(obj, name=name)
            owners[name] = plugin.name
            unknown = [hc.name for hc in pm.get_hookcallers(obj) or [] if hc.spec is None]
            if unknown:
                pm.unregister(name=name)
                warn(f"plugin {plugin.name!r} implements unknown bigflow-airflow hook {unknown[0]!r}; ignored")
    found: dict[str, tuple[Any, str]] = {}
    for impl in pm.hook.register_dag_renderers.get_hookimpls():
        owner = owners[impl.plugin_name]

        def register(name: str, renderer: Any, owner: str = owner) -> None:
            if name in found and found[name][1] != owner:
                found[name] = (None, f"{found[name][1]}, {owner}")
            else:
                found[name] = (renderer, owner)

        try:
            impl.function(register=register)
        except Exception as error:  # noqa: BLE001 - one plugin's failure must not break the others
            warn(f"plugin {owner!r} failed in register_dag_renderers: {type(error).__name__}: {error}")
    return found


def renderers() -> dict[str, tuple[Any, str]]:
    """Every registered renderer by name (collected once per plugin host)."""
    from bigflow import plugins

    host = plugins.host()
    if host not in _cache:
        _cache[host] = _collect()
    return _cache[host]


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
