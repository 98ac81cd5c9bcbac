"""bigflow: one shape for data projects on Google Cloud.

Public names are imported lazily, so ``bigflow --help`` does not pay for the workflow model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from bigflow.version import PLUGIN_API_VERSION, __version__

_LAZY = {
    "hookimpl": "bigflow.plugins",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bigflow' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["PLUGIN_API_VERSION", "__version__", *_LAZY]
