"""Loading plugins lazily and in isolation, and collecting what they contribute.

Loading imports each enabled, compatible plugin's hook modules (in a daemon thread, with a time limit) and
registers them with pluggy; pluggy calls every hook, so ``tryfirst``/``trylast`` and hook wrappers work as
pluggy documents. Each plain implementation is wrapped so that its exception is recorded for its plugin and
the other implementations still run:

- a plugin that fails to import, implements an unknown hook or raises in a contribution hook is unregistered,
  reported once on stderr and listed as ``failed: <reason>``; every other plugin and command keeps working;
- a plugin that raises in a lifecycle hook (``before_job``, ...) is reported, keeps its status and keeps every
  contribution.

With ``BIGFLOW_STRICT_PLUGINS=1`` any such problem is an error instead.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bigflow.errors import PluginError, UnknownNameError
from bigflow.output import warn
from bigflow.plugins import discovery
from bigflow.plugins.discovery import PluginInfo
from bigflow.plugins.kinds import KINDS, Kind
from bigflow.version import PLUGIN_API_VERSION

if TYPE_CHECKING:
    import pluggy

OK, FAILED, INCOMPATIBLE, DISABLED, NOT_LOADED = "ok", "failed", "incompatible", "disabled", "not loaded"

#: seconds a plugin's hook modules may take to import (``BIGFLOW_PLUGIN_IMPORT_TIMEOUT`` overrides)
IMPORT_TIMEOUT = 10.0

#: the plugin whose hook implementation is running (read by ``register`` callbacks)
_current_owner: ContextVar[str] = ContextVar("bigflow_plugin_owner", default="")


def current_plugin() -> str:
    """The distribution whose hook implementation is running (for a ``register`` callback to record it)."""
    return _current_owner.get()


def strict() -> bool:
    return os.environ.get("BIGFLOW_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, the way plugin failures are reported."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def import_timeout() -> float:
    raw = os.environ.get("BIGFLOW_PLUGIN_IMPORT_TIMEOUT", "")
    try:
        return float(raw) if raw else IMPORT_TIMEOUT
    except ValueError:
        raise PluginError(f"BIGFLOW_PLUGIN_IMPORT_TIMEOUT must be a number of seconds, got {raw!r}") from None


def import_object(ref: str, timeout: float) -> Any:
    """The object ``module[:attr.path]`` names, imported in a daemon thread that may take ``timeout`` seconds.

    A plugin that hangs at import cannot hang bigflow: its thread is left behind and the caller gets a
    ``PluginError`` ("import did not finish in N s").
    """
    from importlib import import_module

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            module_name, _, attr = ref.replace(" ", "").partition(":")
            obj = import_module(module_name)
            for part in filter(None, attr.split(".")):
                obj = getattr(obj, part)
            outcome["value"] = obj
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name=f"bigflow-import:{ref}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise PluginError(f"import did not finish in {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class Plugin:
    """A plugin distribution: its metadata, its load status, what it registered and its hook failures."""

    info: PluginInfo
    status: str = NOT_LOADED
    reason: str = ""
    objects: list[Any] = field(default_factory=list)  # registered hook-implementation modules/objects
    hook_errors: list[str] = field(default_factory=list)  # lifecycle hooks that raised ("hook: Type: message")

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
        self._contributions: dict[str, dict[str, Contribution]] = {}  # per kind, collected on first use
        self._collected: dict[str, dict[str, Contribution]] = {}  # plugin-added register hooks
        self.conflicts: list[str] = []
        self._owners: dict[str, str] = {}  # pluggy plugin name -> distribution name
        self._lock = threading.RLock()  # failure records and lazy collection, from any thread
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

    @property
    def hook(self) -> Any:
        """pluggy's hook relay, after loading: ``host.hook.my_hook(arg=...)`` calls every implementation.

        For hooks that plugins add with ``register_hookspecs``; each implementation is isolated as above.
        """
        return self.load().pm.hook

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
        """Import and register every enabled, compatible plugin, then the hook specs plugins add. Idempotent."""
        with self._lock:
            if self._loaded:
                return self
            self._loaded = True
            timeout = import_timeout()
            for plugin in self.plugins:
                if plugin.status == NOT_LOADED:
                    self._load_one(plugin, timeout)
            self._add_plugin_hookspecs()
        for plugin in self.plugins:
            if plugin.status in (FAILED, INCOMPATIBLE):
                self._report(plugin)
        return self

    def _load_one(self, plugin: Plugin, timeout: float) -> None:
        try:
            for ep_name, ref in plugin.info.modules.items():
                obj = import_object(ref, timeout)
                self.register(obj, name=f"{plugin.name}:{ep_name}", owner=plugin.name, check=False)
                plugin.objects.append(obj)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - isolation is the point
            self._fail(plugin, error, report=False)  # load() reports every problem once, at the end
        else:
            plugin.status = OK

    def _add_plugin_hookspecs(self) -> None:
        """Call ``register_hookspecs`` (pytest's ``pytest_addhooks``), then check every plugin's hooks."""
        self.pm.hook.register_hookspecs.call_historic(kwargs={"register": self.pm.add_hookspecs})
        for plugin in self.plugins:
            if plugin.status != OK:
                continue
            try:
                for obj in plugin.objects:
                    self._check_known(obj)
            except PluginError as error:
                self._fail(plugin, error, report=False)

    def _check_known(self, obj: Any) -> None:
        """A hook no spec defines is an error, unless marked ``@hookimpl(optionalhook=True)`` (pluggy's meaning: a
        hook of another plugin, which may not be installed; called only when it is)."""
        unknown = [hc.name for hc in self.pm.get_hookcallers(obj) or [] if hc.spec is None
                   and not all(impl.optionalhook for impl in hc.get_hookimpls() if impl.plugin is obj)]
        if unknown:
            raise PluginError(f"implements unknown hook {unknown[0]!r}")

    def register(self, obj: Any, *, name: str, owner: str, check: bool = True) -> None:
        """Register a hook-implementation object; each plain implementation is isolated (see the module doc).

        With ``check``, a hook no spec defines is an error (like pluggy's ``check_pending``): at once when the
        plugins are loaded, else when they are, after ``register_hookspecs`` has run, so that a plugin may
        implement hooks another plugin adds.
        """
        self.pm.register(obj, name=name)
        self._owners[name] = owner
        for caller in self.pm.get_hookcallers(obj) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name and not (impl.hookwrapper or impl.wrapper):
                    impl.function = self._guarded(impl.function, caller.name, owner)
        if check and self._loaded:
            try:
                self._check_known(obj)
            except PluginError:
                self.unregister(name)
                raise
        self._forget_contributions()

    def _guarded(self, function: Callable[..., Any], hook_name: str, owner: str) -> Callable[..., Any]:
        """``function`` run as ``owner``: an exception becomes a recorded failure of that plugin (result None)."""

        @functools.wraps(function)
        def guarded(*args: Any) -> Any:
            token = _current_owner.set(owner)
            try:
                return function(*args)
            except Exception as error:  # noqa: BLE001 - one plugin's failure must not break the others
                self._hook_failed(owner, hook_name, error)
                return None
            finally:
                _current_owner.reset(token)

        return guarded

    def _hook_failed(self, owner: str, hook_name: str, error: Exception) -> None:
        plugin = self._discovered().get(owner)
        if plugin is None:  # registered directly (tests), not through an entry point or add_plugin
            raise error
        if hook_name in PLUGIN_WIDE_HOOKS:
            with self._lock:
                self._fail(plugin, error, report=False)
            self._report(plugin)
            return
        with self._lock:
            plugin.hook_errors.append(f"{hook_name}: {one_line(error)}")
        message = f"plugin {plugin.name!r} failed in {hook_name}: {one_line(error)}"
        if strict():
            raise PluginError(f"{message} (BIGFLOW_STRICT_PLUGINS is set)") from error
        warn(message)

    def add_plugin(self, obj: Any, *, name: str, version: str = "0+test") -> Plugin:
        """Register a plugin object that did not come from an entry point (tests, embedding)."""
        plugin = Plugin(PluginInfo(name=name, version=version, modules={}), status=OK)
        self._discovered()[name] = plugin
        try:
            self.register(obj, name=f"{name}:object", owner=name)
        except PluginError:
            del self._discovered()[name]
            raise
        plugin.objects.append(obj)
        return plugin

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._owners.pop(name, None)
        self._forget_contributions()

    def _forget_contributions(self) -> None:
        self._contributions.clear()
        self._collected.clear()
        self.conflicts = []

    def _fail(self, plugin: Plugin, error: BaseException, *, report: bool = True) -> None:
        for name, owner in list(self._owners.items()):
            if owner == plugin.name:
                if self.pm.has_plugin(name):
                    self.pm.unregister(name=name)
                del self._owners[name]
        plugin.objects.clear()
        plugin.status, plugin.reason = FAILED, one_line(error)
        for by_name in [*self._contributions.values(), *self._collected.values()]:
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
        """Everything of one kind that plugins registered, by name (collected once per kind, on first use).

        Only that kind's register hook is called, so e.g. looking up a builder imports no job type module.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown contribution kind {kind!r}")
        with self._lock:
            if kind not in self._contributions:
                self._collect(KINDS[kind])
            return self._contributions[kind]

    def _collect(self, kind: Kind) -> None:
        self.load()
        found = self._contributions[kind.key] = {}  # in place first: a failing plugin's entries are dropped from it
        known = len(self.conflicts)
        self._call_register(kind.hook, kind.label, found, self.reserved.get(kind.key, set()))
        for conflict in self.conflicts[known:]:
            if strict():
                raise PluginError(f"{conflict} (BIGFLOW_STRICT_PLUGINS is set)")
            warn(conflict)

    def collect(self, hook_name: str, label: str) -> dict[str, Contribution]:
        """What the plugins register through a ``register(name, obj)`` hook that a plugin added (cached).

        A name two plugins register maps to a ``Contribution`` whose ``obj`` is None and whose ``plugin``
        names both; the caller reports it when the name is used.
        """
        with self._lock:
            if hook_name not in self._collected:
                self.load()
                found: dict[str, Contribution] = {}
                self._call_register(hook_name, label, found, set())
                self._collected[hook_name] = found
            return self._collected[hook_name]

    def _call_register(self, hook_name: str, label: str, by_name: dict[str, Contribution], reserved: set[str]) -> None:
        def register(name: str, obj: Any) -> None:
            owner = _current_owner.get() or "?"
            if not isinstance(name, str) or not name:
                raise PluginError(f"register() needs a non-empty name, got {name!r}")
            if name in reserved:
                self.conflicts.append(f"{label} {name!r} from plugin {owner!r} collides with a core {label}; ignored")
                return
            if name in by_name and by_name[name].plugin != owner:
                first, second = sorted((by_name[name].plugin, owner))  # pluggy calls the last registered first
                self.conflicts.append(f"{label} {name!r} is provided by both {first!r} and {second!r}")
                by_name[name] = Contribution(hook_name, name, None, f"{first}, {second}")
                return
            by_name[name] = Contribution(hook_name, name, obj, owner)

        getattr(self.pm.hook, hook_name)(register=register)

    def contribution(self, kind: str, name: str) -> Any:
        """The object registered under ``name``; a one-line error for unknown or conflicting names."""
        found = self.contributions(kind)
        label = KINDS[kind].label
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

    def owner_of(self, kind: str, name: str) -> str:
        """The plugin that registered ``name`` (for messages about what it returned)."""
        item = self.contributions(kind).get(name)
        return item.plugin if item is not None else "?"

    # -- lifecycle --------------------------------------------------------------------------------

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook through pluggy; a failing plugin is reported and the others still run."""
        getattr(self.load().pm.hook, hook_name)(**kwargs)


#: hooks whose failure fails the plugin (what it registered may be half done): contributions, settings, specs
PLUGIN_WIDE_HOOKS = frozenset({*(kind.hook for kind in KINDS.values()), "register_settings", "register_hookspecs"})


def api_mismatch(requires: str | None) -> str:
    """Why a plugin API range does not admit this core's API version ('' when it does).

    Plain numeric clauses such as ``>=1,<2`` are checked without importing ``packaging`` (``versions``).
    """
    if requires is None:
        return ""
    from bigflow.plugins.versions import InvalidRange, contains

    try:
        ok = contains(requires, PLUGIN_API_VERSION)
    except InvalidRange:
        return f"invalid plugin API range {requires!r}"
    return "" if ok else f"requires plugin API {requires}, core provides {PLUGIN_API_VERSION}"
