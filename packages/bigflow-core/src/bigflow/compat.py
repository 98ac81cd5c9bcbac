"""BigFlow 1.x import paths (``bigflow.bigquery``, ``bigflow.dataflow``, ``bigflow.dataproc``) served by plugins."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def reexport(namespace: dict[str, Any], module: str, distribution: str) -> None:
    """Fill a 1.x shim module's namespace with the public names (``__all__``) of a plugin module."""
    try:
        source = import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module.split(".")[0]:
            raise
        raise ImportError(
            f"{namespace['__name__']} is provided by the {distribution} plugin: pip install {distribution}"
        ) from None
    names = list(getattr(source, "__all__", [n for n in vars(source) if not n.startswith("_")]))
    namespace.update({name: getattr(source, name) for name in names})
    namespace["__all__"] = names
