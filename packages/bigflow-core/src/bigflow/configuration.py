"""Environment-aware configuration: the BigFlow 1.x ``Config`` and ``DeploymentConfig``.

``Config(name, properties)`` declares the master environment; ``.add_configuration(name, properties)`` adds
others, each inheriting the master's properties. ``.resolve(env)`` returns one environment's properties with
``env`` added, environment variables applied and ``{key}`` references interpolated.

Environment selection: the explicit name, else ``<prefix>env`` (``bf_env``), else the default environment.

Precedence, highest first:

1. the ``<prefix><key>`` environment variable (``bf_<key>``), for keys the environment declares; its value is
   used as is (not interpolated);
2. the environment's own value in code;
3. the master environment's value in code.

A property whose value is ``None`` (or ``secret()``) is required from the environment: resolving it while
``bf_<key>`` is unset is an error naming the variable.

Interpolation: a string value from code that contains ``{name}`` or ``{{`` is a template: each ``{key}`` is
replaced by the resolved value of property ``key`` (``{env}`` included), recursively and independently of
declaration order, and ``{{``/``}}`` are literal braces; an unknown key or a reference cycle is an error.
Other strings (e.g. JSON) are used as they are.

Secrets: a property is secret when its key is listed in ``secrets=``, its name is ``secret``, ``password``,
``token`` or ``key`` or ends with ``_secret``, ``_password``, ``_token`` or ``_key`` (case-insensitive), its
value in code is a :class:`SecretStr` or ``secret()``, or it interpolates a secret. Resolved secret strings are
:class:`SecretStr`: a real ``str`` (a DB client or an f-string gets the value) whose ``repr`` is masked.
``pretty_print``, ``str(config)`` and ``describe`` show ``***``; :class:`SecretsFilter` masks secret values in
log records.

Differences from BigFlow 1.x:

- only ``bf_<key>`` variables of declared keys are read (1.x put every ``bf_*`` variable into every
  resolved dict);
- an explicit ``bf_<key>`` overrides the value from code (1.x only filled values missing or ``None``);
- a custom ``environment_variables_prefix`` is honoured when reading the environment name from
  ``<prefix>env`` (1.x compared the prefix with the typo ``'_bf'``);
- interpolation is recursive and order-independent, with ``{{``/``}}`` escapes, and an unknown reference or
  a cycle is an error (1.x did one order-dependent ``str.replace`` pass and left unknown names as they were);
- ``resolve_property`` of an undeclared key is an error (1.x read ``bf_<key>`` from the environment);
- errors are one-line ``ConfigError`` s (a ``BigflowError`` and a ``ValueError``, which 1.x raised) naming
  the environment, the key or the variable; defining an environment twice is an error (1.x replaced it).
"""

from __future__ import annotations

import difflib
import logging
import os
import pprint
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from bigflow.errors import BigflowError, ConfigError, UnknownNameError

DEFAULT_PREFIX = "bf_"
MASK = "***"
SECRET_WORDS = ("secret", "password", "token", "key")
_REFERENCE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TEMPLATE = re.compile(r"\{\{|\{[A-Za-z_][A-Za-z0-9_]*\}")
MIN_MASKED_LENGTH = 4  # shorter secret values are not masked inside log messages (too many false hits)
_known_secrets: set[str] = set()
_declared_environments: set[str] = set()  # every environment a Config in this process declares


def declares_environment(name: str) -> bool:
    """True when a ``Config`` created in this process (e.g. in a workflow module) declares environment ``name``."""
    return name in _declared_environments


def from_environment(variable: str) -> tuple[str, str] | None:
    """``(name, value)`` of the environment variable ``variable`` (``bf_key``), else of its upper-case form
    (``BF_KEY``: Airflow's Kubernetes secrets upper-case their variable names); None when neither is set."""
    for name in (variable, variable.upper()):
        if name in os.environ:
            return name, os.environ[name]
    return None


def current_env(prefix: str = DEFAULT_PREFIX) -> str | None:
    """The environment name set for this process in ``<prefix>env`` (``bf_env``), or None."""
    return os.environ.get(f"{prefix}env") or None


def is_secret_key(key: str) -> bool:
    """True for keys named like secrets: ``password``, ``db_password``, ``api_token``, ``signing_key``, ..."""
    name = key.lower()
    return any(name == word or name.endswith(f"_{word}") for word in SECRET_WORDS)


def masked_forms(value: str) -> set[str]:
    """The texts to mask for a secret value: itself, without surrounding whitespace (an error line or a
    multi-line TOML string's last newline drops it) and each of its lines; each of at least
    ``MIN_MASKED_LENGTH`` characters."""
    forms = {value, value.strip(), *(line.strip() for line in value.splitlines())}
    return {form for form in forms if len(form) >= MIN_MASKED_LENGTH}


class SecretStr(str):
    """A ``str`` whose ``repr`` is masked; code that needs the value uses it as a str or ``get_secret_value()``."""

    __slots__ = ()

    def __new__(cls, value: str) -> SecretStr:
        secret = super().__new__(cls, value)
        _known_secrets.update(masked_forms(str.__str__(secret)))
        return secret

    def __repr__(self) -> str:
        return f"SecretStr({MASK!r})"

    def get_secret_value(self) -> str:
        """The value as a plain ``str``."""
        return str.__str__(self)


class _RequiredSecret:
    """Marker returned by ``secret()``: a secret property required from the environment."""

    def __repr__(self) -> str:
        return "secret()"


_REQUIRED_SECRET = _RequiredSecret()


def secret(default: str | None = None) -> SecretStr | _RequiredSecret:
    """A secret property value: ``secret()`` is required from ``bf_<key>``, ``secret("x")`` has a default."""
    return _REQUIRED_SECRET if default is None else SecretStr(default)


def mask(value: Any) -> Any:
    """``***`` for a SecretStr; in mappings (recursively) also for values of secret-named keys."""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Mapping):
        return {k: MASK if isinstance(k, str) and is_secret_key(k) else mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


class SecretsFilter(logging.Filter):
    """Replaces the value of every ``SecretStr`` created in this process with ``***`` in log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = sorted(_known_secrets, key=len, reverse=True)
        if secrets:
            message = masked = record.getMessage()
            for value in secrets:
                masked = masked.replace(value, MASK)
            if masked != message:
                record.msg, record.args = masked, None
        return True


class ResolvedValue(NamedTuple):
    """One property of a resolved environment, for printouts (``value`` is ``***`` when secret)."""

    key: str
    value: Any
    source: str  # "code", "env:<variable>" or "interpolated"
    secret: bool


class EnvConfig(NamedTuple):
    """The declared properties of one environment (master ones included) and its secret keys."""

    name: str
    properties: dict[str, Any]
    secrets: frozenset[str]


class _Resolved(NamedTuple):
    env: str
    values: dict[str, Any]
    sources: dict[str, str]
    secrets: set[str]


class Config:
    """Named environments of properties; see the module docstring."""

    def __init__(self, name: str, properties: Mapping[str, Any], is_master: bool = True,
                 is_default: bool = True, *, secrets: Iterable[str] = (),
                 environment_variables_prefix: str = DEFAULT_PREFIX) -> None:
        self.master_config_name = name if is_master else None
        self.default_env_name: str | None = None
        self.configs: dict[str, EnvConfig] = {}
        self.environment_variables_prefix = environment_variables_prefix
        self.add_configuration(name, properties, is_default=is_default, secrets=secrets)

    def add_configuration(self, name: str, properties: Mapping[str, Any], is_default: bool = False, *,
                          secrets: Iterable[str] = ()) -> Config:
        """Add an environment that inherits the master's properties (and secret keys); chainable."""
        if name in self.configs:
            raise ConfigError(f"environment {name!r} is defined twice in the config")
        if properties.get("env", name) != name:
            raise ConfigError(f"environment {name!r}: property 'env' is the environment name, "
                               f"got {properties['env']!r}; remove it")
        if is_default and self.default_env_name is not None:
            raise ConfigError(f"environment {name!r} cannot be the default: {self.default_env_name!r} already is "
                               "(only one default environment)")
        master = self.configs.get(self.master_config_name) if self.master_config_name else None
        merged = {**(master.properties if master else {}), **properties, "env": name}
        secret_keys = frozenset(secrets) | (master.secrets if master else frozenset())
        for key in secret_keys - merged.keys():
            close = difflib.get_close_matches(key, list(merged), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"environment {name!r}: secret {key!r} is not one of its properties{hint}")
        self.configs[name] = EnvConfig(name, merged, secret_keys)
        _declared_environments.add(name)
        if is_default:
            self.default_env_name = name
        return self

    def _env_name(self, env_name: str | None) -> str:
        variable = f"{self.environment_variables_prefix}env"
        name = env_name or current_env(self.environment_variables_prefix) or self.default_env_name
        known = ", ".join(self.configs)
        if name is None:
            raise ConfigError(f"no environment given and the config has no default one (known: {known}); "
                               f"pass one or set {variable}")
        if name not in self.configs:
            origin = "" if env_name else f" (from {variable})"
            close = difflib.get_close_matches(name, list(self.configs), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(f"unknown environment {name!r}{origin} (known: {known}){hint}")
        return name

    def _resolve(self, env_name: str | None) -> _Resolved:
        env = self._env_name(env_name)
        declared = self.configs[env]
        raw: dict[str, Any] = {}
        sources: dict[str, str] = {}
        secrets = set(declared.secrets)
        for key, value in declared.properties.items():
            variable = f"{self.environment_variables_prefix}{key}"
            if isinstance(value, SecretStr | _RequiredSecret) or is_secret_key(key):
                secrets.add(key)
            found = from_environment(variable) if key != "env" else None
            if found is not None:
                raw[key], sources[key] = found[1], f"env:{found[0]}"
            elif value is None or value is _REQUIRED_SECRET:
                raise ConfigError(f"configuration value {key!r} of environment {env!r} is required: "
                                   f"set {variable}")
            else:
                raw[key], sources[key] = value, "code"
        values = _Interpolation(env, raw, sources, secrets).run()
        values = {k: SecretStr(v) if k in secrets and isinstance(v, str) else v for k, v in values.items()}
        return _Resolved(env, values, sources, secrets)

    def resolve(self, env_name: str | None = None) -> dict[str, Any]:
        """The properties of an environment (explicit, else ``<prefix>env``, else the default one)."""
        return self._resolve(env_name).values

    def resolve_property(self, name: str, env_name: str | None = None) -> Any:
        """One resolved property; an unknown key is an error naming the nearest one."""
        values = self.resolve(env_name)
        if name not in values:
            close = difflib.get_close_matches(name, list(values), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"no property {name!r} in environment {values['env']!r}{hint}")
        return values[name]

    def describe(self, env_name: str | None = None) -> list[ResolvedValue]:
        """Every property of an environment, sorted by key, with its source; secret values are ``***``."""
        resolved = self._resolve(env_name)
        return [ResolvedValue(key, MASK if key in resolved.secrets else value, resolved.sources[key],
                              key in resolved.secrets)
                for key, value in sorted(resolved.values.items())]

    def pretty_print(self, env_name: str | None = None) -> str:
        """``<env> config:`` and the resolved properties (secrets masked), as 1.x printed them."""
        resolved = self._resolve(env_name)
        shown = {k: MASK if k in resolved.secrets else v for k, v in resolved.values.items()}
        return f"{resolved.env} config:\n{pprint.pformat(shown, indent=4)}"

    def __str__(self) -> str:
        """Every environment, pretty-printed; an environment that cannot be resolved shows its error."""
        blocks = []
        for name in self.configs:
            try:
                blocks.append(self.pretty_print(name))
            except BigflowError as error:
                blocks.append(f"{name} config: <{error}>")
        return "\n".join(blocks)


class DeploymentConfig(Config):
    """A Config whose environment variables use a custom prefix (e.g. ``bamboo_bf_``), positional as in 1.x."""

    def __init__(self, name: str, properties: Mapping[str, Any], is_master: bool = True,
                 is_default: bool = True, environment_variables_prefix: str = DEFAULT_PREFIX, *,
                 secrets: Iterable[str] = ()) -> None:
        super().__init__(name, properties, is_master, is_default, secrets=secrets,
                         environment_variables_prefix=environment_variables_prefix)


class _Interpolation:
    """Expands ``{key}`` references of one environment's values; marks keys that reference secrets secret."""

    def __init__(self, env: str, raw: dict[str, Any], sources: dict[str, str], secrets: set[str]) -> None:
        self.env, self.raw, self.sources, self.secrets = env, raw, sources, secrets
        self.literal = {key for key, source in sources.items() if source != "code"}
        self.done: dict[str, Any] = {}
        self.path: list[str] = []

    def run(self) -> dict[str, Any]:
        return {key: self.expand(key) for key in self.raw}

    def expand(self, key: str) -> Any:
        if key in self.done:
            return self.done[key]
        if key in self.path:
            cycle = " -> ".join([*self.path[self.path.index(key):], key])
            raise ConfigError(f"reference cycle in configuration of environment {self.env!r}: {cycle}")
        value = self.raw[key]
        if key not in self.literal and isinstance(value, str) and _TEMPLATE.search(value):
            self.path.append(key)
            value = _REFERENCE.sub(lambda match: self.substitute(key, match), value)
            self.path.pop()
        self.done[key] = value
        return value

    def substitute(self, key: str, match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]
        if name not in self.raw:
            close = difflib.get_close_matches(name, list(self.raw), n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else "; write {{ }} for literal braces"
            raise ConfigError(f"configuration value {key!r} of environment {self.env!r} references unknown "
                               f"key {token}{hint}")
        value = self.expand(name)
        self.sources[key] = "interpolated"
        if name in self.secrets:
            self.secrets.add(key)
        return str(value)
