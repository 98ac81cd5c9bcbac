"""Finding plugins from installed distributions' entry-point metadata, without importing them.

A plugin distribution declares, in its ``pyproject.toml``::

    [project.entry-points.bigflow]            # modules holding hook implementations
    acme = "acme_bigflow.plugin"

    [project.entry-points."bigflow.api"]      # the plugin API range it supports (a PEP 440 specifier)
    requires = ">=1,<2"

    [project.entry-points."bigflow.provides"] # what it contributes, "KIND:NAME" = where it lives
    "job_type:acme" = "acme_bigflow.jobs:AcmeJob"
    "command:acme" = "acme_bigflow.cli:acme"

Only ``bigflow`` is required. A plugin without ``bigflow.api`` is taken to support the current major plugin
API (it is loaded, and ``bigflow --version`` shows its range as ``unspecified``); declare the range so that a
future major version of core reports the plugin as ``incompatible`` instead of loading it.

Each ``bigflow.provides`` value says where the contribution lives (``module:attribute``); ``bigflow plugins
check`` imports it and reports a reference to a missing object, a declared name that the plugin never
registers, and a registered name that is not declared.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import metadata

from bigflow.plugins.kinds import KINDS

GROUP = "bigflow"
API_GROUP = "bigflow.api"
PROVIDES_GROUP = "bigflow.provides"
CORE_DISTRIBUTION = "bigflow-core"


_OBJECT_REF = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")


def normalize(name: str) -> str:
    """PEP 503 normalization, so ``Bigflow_Beam`` and ``bigflow-beam`` name the same plugin."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PluginInfo:
    """One plugin distribution as seen in its metadata (before any import)."""

    name: str
    version: str
    modules: dict[str, str]  # entry-point name -> module reference
    api: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)
    locations: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> "module:attribute"
    problems: list[str] = field(default_factory=list)  # malformed metadata, found without importing

    @property
    def builtin(self) -> bool:
        return self.name == CORE_DISTRIBUTION

    @property
    def aliases(self) -> set[str]:
        """Names that select this plugin in BIGFLOW_LOAD_PLUGINS / BIGFLOW_DISABLE_PLUGINS."""
        return {normalize(self.name), *(normalize(n) for n in self.modules)}


def _name_and_version(dist: metadata.Distribution) -> tuple[str, str]:
    """From the ``name-version.dist-info`` directory when possible: parsing METADATA costs an import."""
    path = getattr(dist, "_path", None)
    if path is not None and path.suffix == ".dist-info" and path.stem.count("-") == 1:
        name, version = path.stem.split("-")
        return name.replace("_", "-"), version
    return dist.metadata["Name"], dist.version or "unknown"


def _plugin_info(dist: metadata.Distribution) -> PluginInfo:
    eps = dist.entry_points
    name, version = _name_and_version(dist)
    info = PluginInfo(name=name, version=version, modules={})
    for ep in eps:
        if ep.group == GROUP:
            info.modules[ep.name] = ep.value
            if not _OBJECT_REF.match(ep.value.replace(" ", "")):
                info.problems.append(f"malformed entry point {ep.name!r} = {ep.value!r} (expected 'package.module')")
        elif ep.group == API_GROUP:
            info.api = ep.value.strip()
        elif ep.group == PROVIDES_GROUP:
            kind, sep, name = ep.name.partition(":")
            if not sep or kind not in KINDS or not name:
                info.problems.append(
                    f"malformed provides entry {ep.name!r} (expected 'KIND:NAME', KIND one of {', '.join(KINDS)})"
                )
                continue
            info.provides.setdefault(kind, []).append(name)
            info.locations[(kind, name)] = ep.value.strip()
    return info


def discover() -> list[PluginInfo]:
    """Every installed distribution with a ``bigflow`` entry point, core first, then by name."""
    seen: dict[str, PluginInfo] = {}
    for ep in metadata.entry_points(group=GROUP):
        dist = ep.dist
        if dist is None:
            continue
        info = _plugin_info(dist)
        seen.setdefault(normalize(info.name), info)  # the first on sys.path wins, as for imports
    return sorted(seen.values(), key=lambda p: (not p.builtin, normalize(p.name)))


def name_set(variable: str) -> set[str] | None:
    """Names in a comma-separated environment variable; None when the variable is unset."""
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {normalize(n) for n in raw.split(",") if n.strip()}
