"""The public plugin API: the one module a plugin imports from core (besides the 1.x paths such as ``bigflow``).

Everything here is stable within a major plugin API version (``bigflow.version.PLUGIN_API_VERSION``): a name
is added in a minor version and removed or changed only in the next major one, after a deprecation warning
for at least one minor version. Names are imported on first use, so ``from bigflow.api import hookimpl``
costs no more than the plugin host itself.

Contribution protocols (what ``register(name, obj)`` expects, per kind) and ``Option`` are in
``bigflow.contracts``; see docs/plugin-reference.md for every hook and protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bigflow.lazy import lazy_exports

if TYPE_CHECKING:
    from bigflow.plugins.manager import Contribution

_LAZY = {
    "Artifact": "bigflow.artifacts",
    "Manifest": "bigflow.artifacts",
    "Plan": "bigflow.artifacts",
    "BigflowError": "bigflow.errors",
    "UsageError": "bigflow.errors",
    "PluginError": "bigflow.errors",
    "say": "bigflow.output",
    "warn": "bigflow.output",
    "print_table": "bigflow.output",
    "print_json": "bigflow.output",
    "progress": "bigflow.output",
    "confirm": "bigflow.output",
    "Project": "bigflow.project",
    "find_project": "bigflow.project",
    "require_project": "bigflow.project",
    "Workflow": "bigflow.workflow",
    "Job": "bigflow.workflow",
    "JobContext": "bigflow.workflow",
    "hookimpl": "bigflow.plugins",
    "hookspec": "bigflow.plugins.hookspecs",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


def hook() -> Any:
    """pluggy's hook relay of the loaded plugin host: ``hook().my_hook(arg=...)`` calls a hook a plugin added
    with ``register_hookspecs``; each implementation is isolated (a failure is reported, the others run)."""
    from bigflow import plugins

    return plugins.host().hook


def collect(hook_name: str, label: str) -> dict[str, Contribution]:
    """Call a ``register(name, obj)`` hook a plugin added and return what was registered, by name (cached).

    Each value has ``obj`` and ``plugin`` (the distribution that registered it); a name registered by two
    plugins has ``obj=None`` and both names in ``plugin``. ``label`` names the thing in messages.
    """
    from bigflow import plugins

    return plugins.host().collect(hook_name, label)


__all__ = [*_LAZY, "collect", "hook"]
