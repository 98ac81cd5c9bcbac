"""Environment-aware configuration: BigFlow 1.x ``Config`` and ``DeploymentConfig``.

``Config(name, properties)`` declares the master environment; ``.add_configuration(name, properties)``
adds others, each inheriting the master's properties. ``.resolve(env)`` returns the properties of one
environment, with ``env`` added, environment variables applied and ``{key}`` references interpolated.

Precedence (highest first): an explicit ``bf_<key>`` environment variable, for keys the config declares;
then the environment's own value; then the master's value. A property set to ``None`` is required from
the environment: resolving it without ``bf_<key>`` set is an error naming the variable.

Secrets: a key listed in ``secrets=`` or whose name ends with ``_secret``, ``_password``, ``_token`` or
``_key`` is secret; its value is masked (``***``) in ``pretty_print``, ``str()`` and ``describe()``; values
resolved from such keys are ``SecretStr``, a ``str`` that masks its ``repr``.

Differences from BigFlow 1.x:
- only ``bf_<key>`` variables of declared keys are read (1.x put every ``bf_*`` variable into every dict);
- an explicit ``bf_<key>`` overrides the value from code (1.x only filled missing or ``None`` values);
- a custom ``environment_variables_prefix`` is honoured when reading the environment name (1.x compared the
  prefix with the typo ``'_bf'``);
- interpolation resolves references recursively and in any order, ``{{``/``}}`` escape braces, and a
  reference cycle is an error (1.x did one order-dependent pass of ``str.replace``); unknown ``{names}`` are
  left as they are, as in 1.x.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bigflow.errors import BigflowError

SECRET_SUFFIXES = ("_secret", "_password", "_token", "_key")
_REFERENCE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def current_env(prefix: str = "bf_") -> str | None:
    """The environment name set for this process (``bf_env``), or None."""
    return os.environ.get(f"{prefix}env") or None


def is_secret_key(key: str, secrets: Iterable[str] = ()) -> bool:
    return key in set(secrets) or key.lower().endswith(SECRET_SUFFIXES)


class SecretStr(str):
    """A string whose ``repr`` is masked; use it like any str, ``get_secret_value()`` reads it explicitly."""

    def __repr__(self) -> str:
        return "'***'"

    def get_secret_value(self) -> str:
        return str.__str__(self)


def mask(value: Any) -> Any:
    """``***`` for secrets (recursively in mappings), the value otherwise."""
    if isinstance(value, SecretStr):
        return "***"
    if isinstance(value, Mapping):
        return {k: "***" if is_secret_key(str(k)) else mask(v) for k, v in value.items()}
    return value


class ResolvedValue(dict):
    """One row of ``Config.describe()``: ``key``, ``value`` (masked when secret), ``source``."""


class Config:
    """Named environments of properties; see the module docstring."""

    def __init__(self, name: str, properties: Mapping[str, Any], is_master: bool = True,
                 is_default: bool = True, *, secrets: Iterable[str] = (),
                 environment_variables_prefix: str = "bf_") -> None:
        self.master_config_name = name if is_master else None
        self.default_env_name: str | None = None
        self.configs: dict[str, dict[str, Any]] = {}
        self.secrets: set[str] = set(secrets)
        self.environment_variables_prefix = environment_variables_prefix
        self.add_configuration(name, properties, is_default=is_default)

    def add_configuration(self, name: str, properties: Mapping[str, Any], is_default: bool = False, *,
                          secrets: Iterable[str] = ()) -> Config:
        """Add an environment (inheriting the master's properties); chainable."""
        if "env" in properties and properties["env"] != name:
            raise BigflowError(f"config {name!r}: property 'env' must be {name!r}, got {properties['env']!r}")
        if is_default:
            if self.default_env_name is not None:
                raise BigflowError(
                    f"config {name!r} cannot be the default: {self.default_env_name!r} already is"
                )
            self.default_env_name = name
        base = dict(self.configs.get(self.master_config_name, {})) if self.master_config_name else {}
        self.configs[name] = {**base, **properties, "env": name}
        self.secrets |= set(secrets)
        return self

    # -- resolution -------------------------------------------------------------------------------

    def _env_name(self, env_name: str | None) -> str:
        name = env_name or current_env(self.environment_variables_prefix) or self.default_env_name
        if name is None:
            raise BigflowError(
                f"no environment given and no default one; known: {', '.join(self.configs)} "
                f"(use --config ENV or set {self.environment_variables_prefix}env)"
            )
        if name not in self.configs:
            import difflib

            close = difflib.get_close_matches(name, list(self.configs), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BigflowError(f"unknown environment {name!r} (known: {', '.join(self.configs)}){hint}")
        return name

    def _raw(self, env: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Properties of ``env`` with environment variables applied, and the source of each."""
        values = dict(self.configs[env])
        sources = {key: "code" for key in values}
        for key in values:
            variable = f"{self.environment_variables_prefix}{key}"
            if key != "env" and variable in os.environ:
                values[key], sources[key] = os.environ[variable], f"env:{variable}"
        for key, value in values.items():
            if value is None:
                raise BigflowError(
                    f"config {env!r}: {key!r} is required from the environment: "
                    f"set {self.environment_variables_prefix}{key}"
                )
        return values, sources

    def resolve(self, env_name: str | None = None) -> dict[str, Any]:
        """The properties of an environment (the explicit one, ``bf_env``, else the default)."""
        env = self._env_name(env_name)
        values, _ = self._raw(env)
        return self._finish(env, values)

    def _finish(self, env: str, values: dict[str, Any]) -> dict[str, Any]:
        resolved = interpolate(values, env)
        return {k: SecretStr(v) if isinstance(v, str) and is_secret_key(k, self.secrets) else v
                for k, v in resolved.items()}

    def resolve_property(self, property_name: str, env_name: str | None = None) -> Any:
        """One property of an environment; a one-line error naming the nearest key when unknown."""
        resolved = self.resolve(env_name)
        if property_name not in resolved:
            import difflib

            close = difflib.get_close_matches(property_name, list(resolved), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BigflowError(f"no property {property_name!r} in config {resolved['env']!r}{hint}")
        return resolved[property_name]

    def describe(self, env_name: str | None = None) -> list[ResolvedValue]:
        """Every property of an environment with its source (``code``, ``env:bf_<key>``, ``interpolated``)."""
        env = self._env_name(env_name)
        values, sources = self._raw(env)
        resolved = self._finish(env, values)
        rows = []
        for key in sorted(resolved):
            source = sources[key]
            if source == "code" and resolved[key] != values[key]:
                source = "interpolated"
            shown = "***" if is_secret_key(key, self.secrets) else resolved[key]
            rows.append(ResolvedValue(key=key, value=shown, source=source))
        return rows

    def pretty_print(self, env_name: str | None = None) -> str:
        """A readable listing of one environment (secrets masked); printed and returned."""
        env = self._env_name(env_name)
        lines = [f"{env} config:"] + [f"  {row['key']}: {row['value']!r}" for row in self.describe(env)]
        text = "\n".join(lines)
        print(text)
        return text

    def __str__(self) -> str:
        blocks = []
        for env, properties in self.configs.items():
            lines = [f"{env} config:"]
            for key, value in sorted(properties.items()):
                lines.append(f"  {key}: {'***' if is_secret_key(key, self.secrets) else repr(value)}")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


class DeploymentConfig(Config):
    """A Config whose environment variables use a custom prefix (e.g. ``bamboo_bf_``)."""

    def __init__(self, name: str, properties: Mapping[str, Any], is_master: bool = True,
                 is_default: bool = True, environment_variables_prefix: str = "bf_", *,
                 secrets: Iterable[str] = ()) -> None:
        super().__init__(name, properties, is_master, is_default, secrets=secrets,
                         environment_variables_prefix=environment_variables_prefix)


def interpolate(values: Mapping[str, Any], env: str) -> dict[str, Any]:
    """Replace ``{key}`` in string values with other values, recursively; ``{{``/``}}`` are literal braces."""
    done: dict[str, Any] = {}

    def expand(key: str, path: tuple[str, ...]) -> Any:
        if key in done:
            return done[key]
        if key in path:
            cycle = " -> ".join((*path[path.index(key):], key))
            raise BigflowError(f"config {env!r}: reference cycle {cycle}")
        value = values[key]
        if isinstance(value, str):

            def substitute(match: re.Match[str]) -> str:
                token = match.group(0)
                if token in ("{{", "}}"):
                    return token[0]
                name = match.group(1)
                if name not in values:
                    return token  # not a reference to a property: left as is, as in 1.x
                return str(expand(name, (*path, key)))

            value = _REFERENCE.sub(substitute, value)
        done[key] = value
        return value

    return {key: expand(key, ()) for key in values}
