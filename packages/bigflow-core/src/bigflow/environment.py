"""Resolving one environment of a project into an :class:`Environment`, with the source of every value.

Sources, from lowest to highest precedence:

1. ``[tool.bigflow.environments.<env>]`` in pyproject.toml (source ``pyproject.toml``);
2. a BigFlow 1.x ``deployment_config.py`` (its ``deployment_config`` Config; source ``deployment_config.py``);
3. the project's ``bigflow.Config`` named by ``[tool.bigflow] config = "module:attr"`` (source ``code``);
4. configuration sources contributed by plugins (source ``plugin:<name>``);
5. ``bf_<key>`` environment variables, for keys set by 1-4 or declared as settings (source ``env:bf_<key>``);
6. the default of a declared setting (source ``default``), when nothing above sets it.

``Config`` and ``DatasetConfig`` objects are inputs here, not resolvers of their own. The result is checked
against the declared settings (:mod:`bigflow.settings`): unknown ``[tool.bigflow]`` keys, near misses of
declared environment keys (:class:`UnknownNameError`, exit code 2), wrong types and missing required settings
(:class:`ConfigError`) are one-line errors.
Other undeclared environment keys are the user's own (``context.config``), as in 1.x.

The environment is ``--config ENV``, else ``bf_env`` (as in 1.x), else ``default-environment``, else the
Config's default, else ``local`` when declared, else the first declared one. A project that declares no
environment accepts any name (1.x projects resolve their Configs inside workflow modules).

Commands call :func:`get`, which resolves once per process and hands the same object to every builder, target
and job.
"""

from __future__ import annotations

import builtins
import importlib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from bigflow.configuration import MASK, is_secret_key, mask, masked_forms
from bigflow.errors import BigflowError, ConfigError, UnknownNameError
from bigflow.project import Project
from bigflow.settings import ENVIRONMENT, TYPES, Registry, convert, core_registry, is_toml_type

PREFIX = "bf_"
DEFAULT_ENV = "local"


class Environment(Mapping[str, Any]):
    """One resolved environment: a read-only mapping of key -> value, with the source of every value.

    Typed getters (``str``, ``int``, ``float``, ``bool``, ``list``, ``table``) convert strings from ``bf_``
    variables and raise a one-line :class:`~bigflow.errors.ConfigError` naming the key and the environment;
    ``require(key, why)`` fails when a key is missing. ``mask(text)`` hides every secret value.
    """

    def __init__(self, name: str, project: Project | None, values: Mapping[str, Any],
                 sources: Mapping[str, str] | None = None, secret_keys: Iterable[str] = (),
                 registry: Registry | None = None) -> None:
        self.name = name
        self.project = project
        self._values = dict(values)
        self._sources = dict(sources or {})
        self.secret_keys = frozenset(secret_keys)
        self.registry = registry or core_registry()

    @classmethod
    def of(cls, config: Mapping[str, Any], name: str | None = None) -> Environment:
        """``config`` itself when it is an Environment, else an Environment over a plain mapping (a job's
        ``context.config`` built by hand, a test's dict)."""
        if isinstance(config, Environment):
            return config
        return cls(name or config.get("env") or "", None, config)

    # -- the mapping ---------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Environment({self.name!r}, {self.mask(repr(mask(self._values)))})"

    def source(self, key: str) -> str:
        """Where ``key``'s value came from: ``pyproject.toml``, ``code``, ``plugin:<name>``, ``env:bf_<key>``..."""
        declared = self.registry.get(key)
        return self._sources.get(key, "default" if declared and declared.setting.default is not None else "")

    # -- secrets -----------------------------------------------------------------------------------
    def mask(self, text: str) -> str:
        """``text`` with the value of every secret setting replaced by ``***``."""
        for value in sorted(self._secret_values(), key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def _secret_values(self) -> set[str]:
        return {form for k in self.secret_keys if self._values.get(k) not in (None, "")
                for form in masked_forms(builtins.str(self._values[k]))}

    # -- typed getters -----------------------------------------------------------------------------
    def value(self, key: str, type: type | None = None, default: Any = None) -> Any:
        """``key``'s value as ``type`` (default: the declared setting's type), else the declared default."""
        declared = self.registry.get(key)
        wanted = type or (declared.setting.type if declared else None)
        value = self._values.get(key)
        if value is None or value == "":
            if default is not None:
                return default
            return declared.setting.default if declared else None
        if wanted is None:
            return value
        try:
            return convert(wanted, value)
        except ValueError as error:
            source = self.source(key)
            origin = f" (from {source})" if source else ""
            shown = MASK if key in self.secret_keys else repr(value)
            raise ConfigError(f"configuration key {key!r} of environment {self.name!r} must be {error}, "
                              f"got {shown}{origin}") from None

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self.value(key, str, default)
        return None if value is None else builtins.str.__str__(value)  # plain str: a SecretStr prints '***'

    def int(self, key: str, default: int | None = None) -> int | None:
        return self.value(key, int, default)

    def float(self, key: str, default: float | None = None) -> float | None:
        return self.value(key, float, default)

    def bool(self, key: str, default: bool | None = None) -> bool | None:
        return self.value(key, bool, default)

    def list(self, key: str, default: Sequence[str] | None = None) -> list[str]:
        return self.value(key, list, default) or []

    def table(self, key: str, default: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.value(key, dict, default) or {}

    def require(self, key: str, why: str = "") -> Any:
        """``key``'s (typed) value; a one-line error saying where to set it when it is missing."""
        value = self.value(key)
        if value is None or value == "" or value == [] or value == {}:
            reason = f"; {why}" if why else ""
            raise ConfigError(f"configuration key {key!r} of environment {self.name!r} is not set{reason} — add it "
                              f"to [tool.bigflow.environments.{self.name}] in pyproject.toml (or set {PREFIX}{key})")
        return value

    # -- printouts -----------------------------------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        """Rows ``{key, value, type, source, plugin, secret}`` with secret values masked, for printouts."""
        rows = []
        keys = sorted({*self._values, *self.registry.names(ENVIRONMENT)})
        for key in keys:
            declared = self.registry.get(key)
            secret = key in self.secret_keys or bool(declared and declared.setting.secret)
            value = self._values.get(key, declared.setting.default if declared else None)
            rows.append({"key": key, "value": MASK if secret and value is not None else mask(value),
                         "type": declared.setting.type_name if declared else type(value).__name__,
                         "source": self.source(key), "plugin": declared.plugin if declared else "",
                         "secret": secret})
        return rows

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Make the environment current for 1.x code (``bf_env``) while the block runs."""
        variable = f"{PREFIX}env"
        previous = os.environ.get(variable)
        os.environ[variable] = self.name
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = previous


def _load_object(project: Project, reference: str) -> Any:
    module_name, _, attr = reference.partition(":")
    if not attr:
        raise BigflowError(f"[tool.bigflow] config must look like 'package.module:name', got {reference!r}")
    if str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - user code
        raise BigflowError(f"cannot import {module_name} (from [tool.bigflow] config): "
                           f"{type(error).__name__}: {error}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BigflowError(f"{module_name} has no {attr!r} (from [tool.bigflow] config)") from None


def _code_configs(project: Project) -> list[tuple[str, Any]]:
    """The Config objects of the project: ``deployment_config.py`` (1.x) and ``[tool.bigflow] config``."""
    found = []
    legacy = project.root / "deployment_config.py"
    if legacy.is_file():
        namespace: dict[str, Any] = {"__file__": str(legacy), "__name__": "deployment_config"}
        try:
            exec(compile(legacy.read_text(), str(legacy), "exec"), namespace)  # noqa: S102 - 1.x project file
        except Exception as error:  # noqa: BLE001 - user code
            raise BigflowError(f"cannot load {legacy}: {type(error).__name__}: {error}") from None
        if "deployment_config" in namespace:
            found.append(("deployment_config.py", namespace["deployment_config"]))
    reference = _project_setting(project, "config", str)
    if reference:
        found.append(("code", _load_object(project, reference)))
    return found


def _project_setting(project: Project, key: str, setting_type: type) -> Any:
    """A ``[tool.bigflow]`` value, type-checked (a one-line error naming the key)."""
    value = project.settings.get(key)
    if value is None:
        return None
    if not is_toml_type(setting_type, value):
        raise ConfigError(f"[tool.bigflow] {key} must be {TYPES[setting_type][1]}, got {value!r}")
    return value


def _config_envs(config: Any) -> tuple[list[str], str | None]:
    """Environment names of a Config and its default environment."""
    names = list(getattr(config, "configs", {}) or getattr(config, "environments", {}))
    default = getattr(config, "default_env_name", None) or getattr(config, "default_env", None)
    return names, default


def environments(project: Project, code_configs: list[tuple[str, Any]] | None = None) -> tuple[list[str], str | None]:
    """Every declared environment name, and the default one (None when nothing is declared)."""
    names = list(project.environments)
    default = _project_setting(project, "default-environment", str)
    for _, config in _code_configs(project) if code_configs is None else code_configs:
        config_names, config_default = _config_envs(config)
        names += [n for n in config_names if n not in names]
        default = default or config_default
    if default is None and names:
        default = DEFAULT_ENV if DEFAULT_ENV in names else names[0]
    return names, default


def choose_env(project: Project, requested: str | None, code_configs: list[tuple[str, Any]] | None = None,
               *, undeclared_ok: bool = False) -> str:
    """The environment's name; an undeclared one is an error unless ``undeclared_ok`` (see ``bigflow run``)."""
    names, default = environments(project, code_configs)
    variable = os.environ.get(f"{PREFIX}env")
    env = requested or variable or default or DEFAULT_ENV
    if names and env not in names and not undeclared_ok:
        import difflib

        origin = "" if requested else f" (from {PREFIX}env)" if variable else " (from default-environment)"
        close = difflib.get_close_matches(env, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"unknown environment {env!r}{origin} (known: {', '.join(names)}){hint}")
    return env


def get(project: Project, requested: str | None = None, *, undeclared_ok: bool = False) -> Environment:
    """The environment, resolved once per process (per plugin host) for the same project, name and ``bf_``
    variables."""
    from bigflow import plugins

    cache = plugins.host().__dict__.setdefault("_bigflow_environments", {})
    variables = tuple(sorted((k, v) for k, v in os.environ.items() if k.lower().startswith(PREFIX)))
    key = (project.root, repr(project.settings), requested, variables, undeclared_ok)
    if key not in cache:
        cache[key] = resolve(project, requested, undeclared_ok=undeclared_ok)
    return cache[key]


def resolve(project: Project, requested: str | None = None, *, undeclared_ok: bool = False) -> Environment:
    """The configuration of the requested (or default) environment, checked against the declared settings;
    see the module docstring. Prefer :func:`get`, which resolves once per process."""
    from bigflow.configuration import from_environment

    registry = settings_registry()
    check_project_table(project, registry)
    code_configs = _code_configs(project)
    env = choose_env(project, requested, code_configs, undeclared_ok=undeclared_ok)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(found: Mapping[str, Any], source: str) -> None:
        for key, value in found.items():
            values[key] = value
            sources[key] = source

    put(project.environments.get(env, {}), "pyproject.toml")
    secrets: set[str] = set()
    for source, config in code_configs:
        if env in _config_envs(config)[0]:
            resolved = config.resolve(env)
            for row in config.describe(env):  # Config knows its own secrets and env-var sources
                put({row.key: resolved[row.key]}, row.source if row.source.startswith("env:") else source)
                if row.secret:
                    secrets.add(row.key)
    _apply_plugin_sources(env, values, sources)
    variables = set(os.environ)  # one snapshot: a lookup per declared key would cost more than the rest
    for key in [*values, *(n for n in registry.names(ENVIRONMENT) if n not in values)]:
        variable = f"{PREFIX}{key}"
        if key == "env" or not {variable, variable.upper()} & variables:
            continue
        found = from_environment(variable)
        if found is not None:
            put({key: found[1]}, f"env:{found[0]}")
    missing = sorted(k for k, v in values.items() if v is None)
    if missing:
        raise ConfigError(
            f"configuration value {missing[0]!r} of environment {env!r} is required: set {PREFIX}{missing[0]}"
        )
    values.setdefault("env", env)
    sources.setdefault("env", "environment name")
    secrets |= {k for k in values if is_secret_key(k)}
    secrets |= {name for name, item in registry.by_name.items() if item.setting.secret and name in values}
    environment = Environment(env, project, values, sources, secrets, registry)
    check_environment(environment)
    return environment


def check_project_table(project: Project, registry: Registry) -> None:
    """Unknown keys of ``[tool.bigflow]`` and wrong types are one-line errors naming the nearest key."""
    for key in project.settings:
        declared = registry.get(key)
        if declared is None or declared.setting.table != "project":
            nearest = registry.nearest(key, "project") or _nearest(key, registry.names("project"))
            hint = f"; did you mean {nearest!r}?" if nearest else ""
            raise UnknownNameError(f"unknown key {key!r} in [tool.bigflow] of pyproject.toml{hint}")
        _project_setting(project, key, declared.setting.type)


def _nearest(key: str, names: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(key, names, n=1)
    return close[0] if close else None


def check_environment(environment: Environment) -> None:
    """Near-miss keys, wrong types and missing required settings of a resolved environment."""
    registry = environment.registry
    for key in environment:
        if registry.get(key) is None and key != "env":
            nearest = registry.nearest(key, ENVIRONMENT)
            if nearest is not None:
                raise UnknownNameError(f"unknown configuration key {key!r} in environment {environment.name!r} "
                                  f"(from {environment.source(key)}); did you mean {nearest!r}?")
        else:
            environment.value(key)  # the type check
    for name, item in registry.by_name.items():
        if item.setting.table == ENVIRONMENT and item.setting.required_in(environment.name):
            if environment.get(name) in (None, "") and item.setting.default is None:
                raise ConfigError(f"configuration key {name!r} is required in environment {environment.name!r} by "
                                  f"{item.plugin} ({item.setting.description}): add it to "
                                  f"[tool.bigflow.environments.{environment.name}] or set {PREFIX}{name}")


def settings_registry() -> Registry:
    """Core's settings and those every loaded plugin declares with ``register_settings``."""
    from bigflow import plugins
    from bigflow.plugins.manager import current_plugin

    host = plugins.host()
    cached = host.__dict__.get("_bigflow_settings")
    if cached is not None:
        return cached
    registry = core_registry()
    host.load()

    def register(name: str, setting: Any) -> None:
        owner = current_plugin()
        if getattr(setting, "name", name) != name:
            raise ConfigError(f"plugin {owner!r} registered setting {setting.name!r} under the name {name!r}")
        registry.add(setting, owner)

    host.pm.hook.register_settings(register=register)
    host.__dict__["_bigflow_settings"] = registry  # one registry per plugin host (per process)
    return registry


def _apply_plugin_sources(env: str, values: dict[str, Any], sources: dict[str, str]) -> None:
    from bigflow import plugins

    host = plugins.host()
    if not any(p.info.provides.get("config_source") or not p.info.modules for p in host.plugins):
        return  # no installed plugin declares a config source: do not load plugins for nothing
    for name, item in host.contributions("config_source").items():
        for key, value in item.obj.load(env, list(values)).items():
            values[key] = value
            sources[key] = f"plugin:{item.plugin}/{name}"
