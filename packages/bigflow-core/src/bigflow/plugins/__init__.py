"""The plugin system: ``hookimpl`` for plugin authors, and the process-wide plugin host.

Nothing is discovered or imported until something asks for it (``host()``, ``job_type(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bigflow.plugins.manager import PluginHost

_host: PluginHost | None = None


def host() -> PluginHost:
    """The process-wide plugin host (created on first use; plugins load when a caller needs hooks)."""
    global _host
    if _host is None:
        from bigflow.plugins.manager import PluginHost

        _host = PluginHost()
    return _host


def set_host(new: PluginHost | None) -> PluginHost | None:
    """Replace the process-wide host (tests); returns the previous one."""
    global _host
    previous, _host = _host, new
    return previous


def job_type(name: str) -> Any:
    """The job class a plugin registered under ``name`` (a one-line error if unknown or ambiguous)."""
    return host().contribution("job_type", name)


def __getattr__(name: str) -> Any:
    # ``hookimpl`` is created on first use so that reading plugin metadata does not import pluggy.
    if name == "hookimpl":
        import pluggy

        marker = globals()["hookimpl"] = pluggy.HookimplMarker("bigflow")
        return marker
    raise AttributeError(f"module 'bigflow.plugins' has no attribute {name!r}")


__all__ = ["hookimpl", "host", "job_type", "set_host"]
