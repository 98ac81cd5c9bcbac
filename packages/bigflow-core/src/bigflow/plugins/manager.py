"""Loading plugins lazily and in isolation, and collecting what they contribute.

Loading imports each enabled, compatible plugin's hook modules and registers them with pluggy. A plugin
that fails (import error, unknown hook, exception while registering) is unregistered, reported once on
stderr and listed as ``failed: <reason>``; every other plugin and command keeps working. With
``BIGFLOW_STRICT_PLUGINS=1`` any such problem is an error instead.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bigflow.errors import PluginError, UnknownNameError
from bigflow.plugins import discovery
from bigflow.plugins.discovery import KINDS, PluginInfo
from bigflow.version import PLUGIN_API_VERSION

if TYPE_CHECKING:
    import pluggy

OK, FAILED, INCOMPATIBLE, DISABLED, NOT_LOADED = "ok", "failed", "incompatible", "disabled", "not loaded"

#: contribution kind -> the hook that collects it
CONTRIBUTION_HOOKS = {
    "job_type": "register_job_types",
    "command": "register_commands",
    "config_source": "register_config_sources",
    "artifact_builder": "register_artifact_builders",
    "deploy_target": "register_deploy_targets",
    "starter": "register_starters",
}


def strict() -> bool:
    return os.environ.get("BIGFLOW_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, the way plugin failures are reported."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


@dataclass
class Plugin:
    """A plugin distribution: its metadata, its load status and what it registered."""

    info: PluginInfo
    status: str = NOT_LOADED
    reason: str = ""
    objects: list[Any] = field(default_factory=list)  # registered hook-implementation modules/objects

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def status_text(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else self.status


@dataclass
class Contribution:
    kind: str
    name: str
    obj: Any
    plugin: str


class PluginHost:
    """The plugin manager of one process: discovery, lazy loading, contributions, lifecycle calls."""

    def __init__(self, infos: Iterable[PluginInfo] | None = None) -> None:
        self._infos = None if infos is None else list(infos)
        self._plugins: dict[str, Plugin] | None = None
        self._loaded = False
        self._contributions: dict[str, dict[str, Contribution]] | None = None
        self.conflicts: list[str] = []
        self._owners: dict[str, str] = {}  # pluggy plugin name -> distribution name
        #: names core keeps for itself, per kind (e.g. core CLI commands); a plugin registering one is reported
        self.reserved: dict[str, set[str]] = {}

    @cached_property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager (created on first use: reading metadata needs no pluggy)."""
        import pluggy

        from bigflow.plugins import hookspecs

        pm = pluggy.PluginManager("bigflow")
        pm.add_hookspecs(hookspecs)
        return pm

    # -- discovery (metadata only) -----------------------------------------------------------------

    @property
    def plugins(self) -> list[Plugin]:
        """Every discovered plugin with its selection status; nothing is imported."""
        return list(self._discovered().values())

    def _discovered(self) -> dict[str, Plugin]:
        if self._plugins is None:
            infos = discovery.discover() if self._infos is None else self._infos
            self._plugins = {p.name: self._select(Plugin(p)) for p in infos}
        return self._plugins

    def plugin(self, name: str) -> Plugin | None:
        key = discovery.normalize(name)
        return next((p for p in self.plugins if key in p.info.aliases), None)

    @staticmethod
    def _select(plugin: Plugin) -> Plugin:
        info = plugin.info
        disabled = discovery.name_set("BIGFLOW_DISABLE_PLUGINS") or set()
        only = discovery.name_set("BIGFLOW_LOAD_PLUGINS")
        if info.aliases & disabled:
            plugin.status, plugin.reason = DISABLED, "BIGFLOW_DISABLE_PLUGINS"
        elif only is not None and not info.builtin and not info.aliases & only:
            plugin.status, plugin.reason = DISABLED, "not in BIGFLOW_LOAD_PLUGINS"
        elif info.problems:
            plugin.status, plugin.reason = FAILED, info.problems[0]
        else:
            plugin.reason = api_mismatch(info.api)
            if plugin.reason:
                plugin.status = INCOMPATIBLE
        return plugin

    # -- loading -----------------------------------------------------------------------------------

    def load(self) -> PluginHost:
        """Import and register every enabled, compatible plugin. Idempotent."""
        if self._loaded:
            return self
        self._loaded = True
        for plugin in self.plugins:
            if plugin.status == NOT_LOADED:
                self._load_one(plugin)
        for plugin in self.plugins:
            if plugin.status in (FAILED, INCOMPATIBLE):
                self._report(plugin)
        return self

    def _load_one(self, plugin: Plugin) -> None:
        from importlib import import_module

        try:
            for ep_name, ref in plugin.info.modules.items():
                module_name, _, attr = ref.replace(" ", "").partition(":")
                obj = import_module(module_name)
                for part in filter(None, attr.split(".")):
                    obj = getattr(obj, part)
                self.register(obj, name=f"{plugin.name}:{ep_name}", owner=plugin.name)
                plugin.objects.append(obj)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - isolation is the point
            self._fail(plugin, error, report=False)  # load() reports every problem once, at the end
        else:
            plugin.status = OK

    def register(self, obj: Any, *, name: str, owner: str) -> None:
        """Register a hook-implementation object; unknown hooks are an error (like pluggy's check_pending)."""
        self.pm.register(obj, name=name)
        self._owners[name] = owner
        unknown = [hc.name for hc in self.pm.get_hookcallers(obj) or [] if hc.spec is None]
        if unknown:
            self.pm.unregister(name=name)
            del self._owners[name]
            raise PluginError(f"implements unknown hook {unknown[0]!r}")
        self._contributions = None

    def add_plugin(self, obj: Any, *, name: str, version: str = "0+test") -> Plugin:
        """Register a plugin object that did not come from an entry point (tests, embedding)."""
        plugin = Plugin(PluginInfo(name=name, version=version, modules={}), status=OK)
        self.register(obj, name=f"{name}:object", owner=name)
        plugin.objects.append(obj)
        self._discovered()[name] = plugin
        return plugin

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._owners.pop(name, None)
        self._contributions = None

    def _fail(self, plugin: Plugin, error: BaseException, *, report: bool = True) -> None:
        for name, owner in list(self._owners.items()):
            if owner == plugin.name:
                self.pm.unregister(name=name)
                del self._owners[name]
        plugin.objects.clear()
        plugin.status, plugin.reason = FAILED, one_line(error)
        if self._contributions is not None:
            for by_name in self._contributions.values():
                for key in [k for k, c in by_name.items() if c.plugin == plugin.name]:
                    del by_name[key]
        if report:
            self._report(plugin)

    def _report(self, plugin: Plugin) -> None:
        message = f"plugin {plugin.name!r} {plugin.status_text}"
        if strict():
            raise PluginError(f"{message} (BIGFLOW_STRICT_PLUGINS is set)")
        hint = plugin.info.name if plugin.status == FAILED else ""
        suffix = f" — disable it with BIGFLOW_DISABLE_PLUGINS={hint}" if hint else ""
        warn(f"{message}{suffix}")

    def hooks_of(self, plugin: Plugin) -> list[str]:
        """Names of the hooks a loaded plugin implements."""
        names = {hc.name for obj in plugin.objects for hc in self.pm.get_hookcallers(obj) or []}
        return sorted(names)

    # -- contributions ----------------------------------------------------------------------------

    def contributions(self, kind: str) -> dict[str, Contribution]:
        """Everything of one kind that plugins registered, by name (collected once, on first use)."""
        if kind not in KINDS:
            raise ValueError(f"unknown contribution kind {kind!r}")
        if self._contributions is None:
            self._collect()
        assert self._contributions is not None
        return self._contributions[kind]

    def _collect(self) -> None:
        self.load()
        self._contributions = {kind: {} for kind in KINDS}
        self.conflicts = []
        for kind, hook_name in CONTRIBUTION_HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                owner = self._owners.get(impl.plugin_name, impl.plugin_name)
                self._call_impl(impl, {"register": self._registrar(kind, owner)}, owner)
        for conflict in self.conflicts:
            if strict():
                raise PluginError(f"{conflict} (BIGFLOW_STRICT_PLUGINS is set)")
            warn(conflict)

    def _registrar(self, kind: str, owner: str) -> Callable[[str, Any], None]:
        def register(name: str, obj: Any) -> None:
            assert self._contributions is not None
            by_name = self._contributions[kind]
            if not isinstance(name, str) or not name:
                raise PluginError(f"register() needs a non-empty name, got {name!r}")
            label = KINDS[kind][:-1]
            if name in self.reserved.get(kind, ()):
                self.conflicts.append(f"{label} {name!r} from plugin {owner!r} collides with a core {label}; ignored")
                return
            if name in by_name and by_name[name].plugin != owner:
                other = by_name[name].plugin
                self.conflicts.append(f"{label} {name!r} is provided by both {other!r} and {owner!r}")
                by_name[name] = Contribution(kind, name, None, f"{other}, {owner}")
                return
            by_name[name] = Contribution(kind, name, obj, owner)

        return register

    def _call_impl(self, impl: pluggy.HookImpl, kwargs: dict[str, Any], owner: str) -> None:
        try:
            impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception as error:  # noqa: BLE001
            plugin = self._discovered().get(owner)
            if plugin is None:  # registered directly (tests), not through an entry point
                raise
            self._fail(plugin, error)

    def contribution(self, kind: str, name: str) -> Any:
        """The object registered under ``name``; a one-line error for unknown or conflicting names."""
        found = self.contributions(kind)
        label = KINDS[kind][:-1]
        if name not in found:
            import difflib

            close = difflib.get_close_matches(name, found, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else (
                f" (known: {', '.join(sorted(found))})" if found else " (no plugin provides any)"
            )
            raise UnknownNameError(f"unknown {label} {name!r}{hint}")
        item = found[name]
        if item.obj is None:
            raise PluginError(
                f"{label} {name!r} is provided by several plugins ({item.plugin}); "
                "disable one with BIGFLOW_DISABLE_PLUGINS"
            )
        return item.obj

    # -- lifecycle --------------------------------------------------------------------------------

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin; a failing plugin is reported and the others still run."""
        self.load()
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            owner = self._owners.get(impl.plugin_name, impl.plugin_name)
            self._call_impl(impl, kwargs, owner)


_SIMPLE_CLAUSE = re.compile(r"^\s*(>=|<=|<|>|==|!=)\s*(\d+(?:\.\d+)*)\s*$")
_COMPARE = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _numeric(version: str, width: int) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (width - len(parts)))


def api_mismatch(requires: str | None) -> str:
    """Why a plugin API range does not admit this core's API version ('' when it does).

    Plain numeric clauses such as ``>=1,<2`` are checked directly (``packaging`` costs 20 ms to import);
    anything else goes through ``packaging.specifiers``.
    """
    if requires is None:
        return ""
    clauses = [_SIMPLE_CLAUSE.match(c) for c in requires.split(",")]
    if all(clauses):
        width = max(len(PLUGIN_API_VERSION.split(".")), *(len(m[2].split(".")) for m in clauses if m))
        ok = all(_COMPARE[m[1]](_numeric(PLUGIN_API_VERSION, width), _numeric(m[2], width)) for m in clauses if m)
    else:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            ok = SpecifierSet(requires).contains(PLUGIN_API_VERSION, prereleases=True)
        except InvalidSpecifier:
            return f"invalid plugin API range {requires!r}"
    return "" if ok else f"requires plugin API {requires}, core provides {PLUGIN_API_VERSION}"


_warned: set[str] = set()


def reset_warnings() -> None:
    """Forget which warnings were shown (each CLI run in a test acts as a new process)."""
    _warned.clear()


def warn(message: str) -> None:
    """A one-line warning on stderr, once per process."""
    if message not in _warned:
        _warned.add(message)
        print(f"bigflow: warning: {message}", file=sys.stderr)
