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
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

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


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def _entry_points(text: str) -> list[tuple[str, str, str]]:
    """``(group, name, value)`` of an ``entry_points.txt`` (INI-style: ``[group]`` then ``name = value``)."""
    found, group = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
            continue
        name, sep, value = line.partition("=")
        if group is not None and sep:
            found.append((group, name.strip(), value.strip()))
    return found


def _name_and_version(directory: str) -> tuple[str, str]:
    """From the ``name-version.dist-info`` directory name when it has that form, else from its metadata."""
    stem, _, suffix = os.path.basename(directory).rpartition(".")
    if suffix == "dist-info" and stem.count("-") == 1:
        name, version = stem.split("-")
        return name.replace("_", "-"), version
    headers: dict[str, str] = {}
    for line in (_read(os.path.join(directory, "METADATA" if suffix == "dist-info" else "PKG-INFO")) or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, sep, value = line.partition(":")
        if sep:
            headers.setdefault(key.strip().lower(), value.strip())
    return headers.get("name", stem.split("-")[0]), headers.get("version", "unknown")


def _distributions() -> Iterator[str]:
    """The metadata directory of every installed distribution, the first of each name on ``sys.path``.

    Read from the file system rather than with ``importlib.metadata``, whose import and full parse of every
    distribution's metadata cost more than the rest of ``bigflow plugins list``.
    """
    seen: set[str] = set()
    for entry in dict.fromkeys(sys.path):
        try:
            children = sorted(os.scandir(entry or "."), key=lambda child: child.name)
        except OSError:  # missing directories, zip files
            continue
        for child in children:
            if not child.name.endswith((".dist-info", ".egg-info")) or not child.is_dir():
                continue
            key = normalize(child.name.rpartition(".")[0].split("-")[0])
            if key not in seen:
                seen.add(key)
                yield child.path


def _plugin_info(directory: str, entry_points: list[tuple[str, str, str]]) -> PluginInfo:
    name, version = _name_and_version(directory)
    info = PluginInfo(name=name, version=version, modules={})
    for group, ep_name, value in entry_points:
        if group == GROUP:
            info.modules[ep_name] = value
            if not _OBJECT_REF.match(value.replace(" ", "")):
                info.problems.append(f"malformed entry point {ep_name!r} = {value!r} (expected 'package.module')")
        elif group == API_GROUP:
            info.api = value
        elif group == PROVIDES_GROUP:
            kind, sep, provided = ep_name.partition(":")
            if not sep or kind not in KINDS or not provided:
                info.problems.append(
                    f"malformed provides entry {ep_name!r} (expected 'KIND:NAME', KIND one of {', '.join(KINDS)})"
                )
                continue
            info.provides.setdefault(kind, []).append(provided)
            info.locations[(kind, provided)] = value
    return info


def discover() -> list[PluginInfo]:
    """Every installed distribution with a ``bigflow`` entry point, core first, then by name."""
    found = []
    for directory in _distributions():
        text = _read(os.path.join(directory, "entry_points.txt"))
        if text is None or f"[{GROUP}" not in text:
            continue
        entry_points = _entry_points(text)
        if any(group == GROUP for group, _, _ in entry_points):
            found.append(_plugin_info(directory, entry_points))
    return sorted(found, key=lambda p: (not p.builtin, normalize(p.name)))


def name_set(variable: str) -> set[str] | None:
    """Names in a comma-separated environment variable; None when the variable is unset."""
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {normalize(n) for n in raw.split(",") if n.strip()}
