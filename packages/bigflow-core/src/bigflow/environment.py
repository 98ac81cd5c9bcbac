"""Resolving the configuration of one environment of a project, with the source of every value.

Sources, from lowest to highest precedence:

1. ``[tool.bigflow.environments.<env>]`` in pyproject.toml (source ``pyproject.toml``);
2. a BigFlow 1.x ``deployment_config.py`` (its ``deployment_config`` Config; source ``deployment_config.py``);
3. the project's ``bigflow.Config`` named by ``[tool.bigflow] config = "module:attr"`` (source ``code``);
4. configuration sources contributed by plugins (source ``plugin:<name>``);
5. ``bf_<key>`` environment variables, for keys declared by 1–3 (source ``env:bf_<key>``).

The environment is ``--config ENV``, else ``bf_env`` (as in 1.x), else ``default-environment``, else the
Config's default, else ``local`` when declared, else the first declared one. A project that declares no
environment accepts any name (1.x projects resolve their Configs inside workflow modules).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bigflow.errors import BigflowError
from bigflow.project import Project

PREFIX = "bf_"
DEFAULT_ENV = "local"


@dataclass
class ResolvedConfig:
    """The configuration of one environment: values, where each came from, which ones are secret."""

    env: str
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)

    def describe(self) -> list[dict[str, Any]]:
        """Rows ``{key, value, source, secret}`` with secret values masked, for printouts."""
        from bigflow.configuration import mask

        return [
            {"key": key, "value": "***" if key in self.secret_keys else mask(value),
             "source": self.sources.get(key, ""), "secret": key in self.secret_keys}
            for key, value in sorted(self.values.items())
        ]

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Make the environment current for 1.x code (``bf_env``) while the block runs."""
        variable = f"{PREFIX}env"
        previous = os.environ.get(variable)
        os.environ[variable] = self.env
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
    reference = project.settings.get("config")
    if reference:
        found.append(("code", _load_object(project, reference)))
    return found


def _config_envs(config: Any) -> tuple[list[str], str | None]:
    """Environment names of a Config and its default environment."""
    names = list(getattr(config, "configs", {}) or getattr(config, "environments", {}))
    default = getattr(config, "default_env_name", None) or getattr(config, "default_env", None)
    return names, default


def environments(project: Project) -> tuple[list[str], str | None]:
    """Every declared environment name, and the default one (None when nothing is declared)."""
    names = list(project.environments)
    default = project.settings.get("default-environment")
    for _, config in _code_configs(project):
        config_names, config_default = _config_envs(config)
        names += [n for n in config_names if n not in names]
        default = default or config_default
    if default is None and names:
        default = DEFAULT_ENV if DEFAULT_ENV in names else names[0]
    return names, default


def choose_env(project: Project, requested: str | None) -> str:
    names, default = environments(project)
    env = requested or os.environ.get(f"{PREFIX}env") or default or DEFAULT_ENV
    if names and env not in names:
        import difflib

        close = difflib.get_close_matches(env, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BigflowError(f"unknown environment {env!r} (known: {', '.join(names)}){hint}")
    return env


def resolve(project: Project, requested: str | None = None) -> ResolvedConfig:
    """The configuration of the requested (or default) environment; see the module docstring."""
    from bigflow.configuration import is_secret_key

    env = choose_env(project, requested)
    resolved = ResolvedConfig(env)

    def put(values: Mapping[str, Any], source: str) -> None:
        for key, value in values.items():
            resolved.values[key] = value
            resolved.sources[key] = source

    put(project.environments.get(env, {}), "pyproject.toml")
    code_secrets: set[str] = set()
    for source, config in _code_configs(project):
        if env in _config_envs(config)[0]:
            values = config.resolve(env)
            for row in config.describe(env):  # Config knows its own secrets and env-var sources
                put({row.key: values[row.key]}, row.source if row.source.startswith("env:") else source)
                if row.secret:
                    code_secrets.add(row.key)
    _apply_plugin_sources(resolved)
    from bigflow.configuration import from_environment

    for key in list(resolved.values):
        found = from_environment(f"{PREFIX}{key}") if key != "env" else None
        if found is not None:
            put({key: found[1]}, f"env:{found[0]}")
    missing = sorted(k for k, v in resolved.values.items() if v is None)
    if missing:
        raise BigflowError(
            f"configuration value {missing[0]!r} of environment {env!r} is required: set {PREFIX}{missing[0]}"
        )
    resolved.values.setdefault("env", env)
    resolved.sources.setdefault("env", "environment name")
    resolved.secret_keys = code_secrets | {k for k in resolved.values if is_secret_key(k)}
    return resolved


def _apply_plugin_sources(resolved: ResolvedConfig) -> None:
    from bigflow import plugins

    host = plugins.host()
    if not any(p.info.provides.get("config_source") or not p.info.modules for p in host.plugins):
        return  # no installed plugin declares a config source: do not load plugins for nothing
    for name, item in host.contributions("config_source").items():
        values = item.obj.load(resolved.env, list(resolved.values))
        for key, value in values.items():
            resolved.values[key] = value
            resolved.sources[key] = f"plugin:{item.plugin}/{name}"
