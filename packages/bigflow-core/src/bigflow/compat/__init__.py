"""BigFlow 1.x compatibility: the 1.x import paths and objects, mapped onto today's design.

Nothing here is a copy of 1.x: each 1.x path re-exports today's objects under the names 1.x users import.

- ``bigflow.compat.workflow``: 1.x's ``WorkflowJob``, ``Definition`` and job-graph helpers over today's
  ``JobGraph``, and the old job API (``run(runtime_str)``).
- ``bigflow.bigquery``, ``bigflow.dataflow``, ``bigflow.dataproc`` (with the 1.x submodules, e.g.
  ``bigflow.bigquery.interactive``): served by the plugins through :func:`plugin_exports`.
- ``bigflow.resources``, ``bigflow.commons``, ``bigflow.testing.isolate``: 1.x helpers user code imports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from importlib import import_module
from typing import Any

from bigflow.lazy import lazy_exports


def _plugin_module(module: str, distribution: str, source: str) -> Any:
    try:
        return import_module(source)
    except ModuleNotFoundError as error:
        if error.name != source.split(".")[0]:
            raise
        raise ImportError(f"{module} is provided by the {distribution} plugin: pip install {distribution}",
                          name=module) from None


def plugin_package(module: str, distribution: str, package: str, submodules: Collection[str] = ()
                   ) -> Callable[[str], Any]:
    """``__getattr__`` of a 1.x package path that serves every public name (``__all__``) of a plugin package,
    and the 1.x ``submodules``; the plugin is imported on first use.

        __getattr__ = plugin_package(__name__, "bigflow-beam", "bigflow_beam", {"job", "options"})
    """

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return import_module(f"{module}.{name}")
        if name.startswith("__") and name != "__all__":
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        source = _plugin_module(module, distribution, package)
        if name != "__all__" and name not in source.__all__:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return getattr(source, name)

    return __getattr__


def plugin_exports(module: str, distribution: str, names: Mapping[str, str], submodules: Collection[str] = ()
                   ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` of a 1.x module path served by a plugin: ``names`` maps each 1.x name to the
    plugin module defining it, imported on first use. Without the plugin installed, using a name is an
    ``ImportError`` that says which distribution to install.

        __getattr__, __dir__ = plugin_exports(__name__, "bigflow-bigquery", {"Job": "bigflow_bigquery.interactive"})
    """
    lazy_getattr, lazy_dir = lazy_exports(module, names, submodules)

    def __getattr__(name: str) -> Any:
        if name in names:
            _plugin_module(module, distribution, names[name])
        return lazy_getattr(name)

    return __getattr__, lazy_dir
