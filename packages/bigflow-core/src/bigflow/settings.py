"""Declared settings: what core and each plugin read from ``[tool.bigflow]`` and its environment tables.

A plugin declares its settings with the hook ``register_settings(register)``::

    @hookimpl
    def register_settings(register):
        register("spark_master", Setting("spark_master", str, default="local[*]",
                                         description="where Spark jobs run"))

Core reads the declarations when it resolves an environment: it checks types, fails on a missing required
setting (naming the plugin that needs it) and on a key that is a near miss of a declared one; ``bigflow config
show`` and ``bigflow config schema`` print them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bigflow.errors import BigflowError

#: the Python types a setting may have, with their JSON Schema type and their name in messages
TYPES: dict[type, tuple[str, str]] = {
    str: ("string", "a string"),
    int: ("integer", "a whole number"),
    float: ("number", "a number"),
    bool: ("boolean", "true or false"),
    list: ("array", "a list of strings (or 'a,b')"),
    dict: ("object", "a table or 'key=value,key2=value2'"),
}
PROJECT, ENVIRONMENT = "project", "environment"
CORE = "bigflow-core"


@dataclass(frozen=True)
class Setting:
    """One setting: its key, type, default, whether it is secret and which environments must set it.

    ``required`` is ``False``, ``True`` (every environment) or a tuple of environment names. ``table`` is
    ``"environment"`` (a key of ``[tool.bigflow.environments.<env>]``, also settable by ``bf_<key>``) or
    ``"project"`` (a key of ``[tool.bigflow]`` itself).
    """

    name: str
    type: type = str
    default: Any = None
    secret: bool = False
    required: bool | tuple[str, ...] = False
    description: str = ""
    table: str = ENVIRONMENT

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise BigflowError(f"setting {self.name!r}: type must be one of "
                               f"{', '.join(t.__name__ for t in TYPES)}, got {self.type!r}")
        if self.table not in (PROJECT, ENVIRONMENT):
            raise BigflowError(f"setting {self.name!r}: table must be 'project' or 'environment'")

    def required_in(self, env: str) -> bool:
        return self.required is True or (isinstance(self.required, tuple) and env in self.required)

    @property
    def type_name(self) -> str:
        return self.type.__name__

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": TYPES[self.type][0]}
        if self.type is list:
            schema["items"] = {"type": "string"}
        if self.description:
            schema["description"] = self.description
        if self.default is not None:
            schema["default"] = self.default
        return schema


@dataclass(frozen=True)
class Declared:
    """A setting and the plugin that declared it (``bigflow-core`` for core's own)."""

    setting: Setting
    plugin: str


#: core's own settings
CORE_SETTINGS = (
    Setting("package", str, table=PROJECT, description="the project's import package (default: the project name)"),
    Setting("default-environment", str, table=PROJECT,
            description="the environment when neither --config nor bf_env names one"),
    Setting("config", str, table=PROJECT, description="'module:attribute' of a bigflow.Config in code"),
    Setting("required-plugins", list, table=PROJECT,
            description="requirement strings of the plugins the project needs"),
    Setting("requirements", str, table=PROJECT, description="the input 'bigflow build requirements' locks"),
    Setting("base-image", str, table=PROJECT, description="the base of the project image"),
    Setting("strict-secrets", bool, table=PROJECT,
            description="a literal secret value in the project's configs fails 'bigflow build image'"),
    Setting("protected", list, table=PROJECT,
            description="environments that deploy only from a clean, tagged release"),
    Setting("environments", dict, table=PROJECT, description="one table of settings per environment"),
    Setting("docker_repository", str, description="the image repository of the environment"),
    Setting("gcp_project_id", str, description="the Google Cloud project of the environment"),
    Setting("region", str, description="the Google Cloud region of the environment"),
)


class Registry:
    """Every declared setting by name; a second declaration of a name by another plugin is an error."""

    def __init__(self, declared: Iterable[Declared] = ()) -> None:
        self.by_name: dict[str, Declared] = {}
        for item in declared:
            self.add(item.setting, item.plugin)

    def add(self, setting: Setting, plugin: str) -> None:
        if not isinstance(setting, Setting):
            raise BigflowError(f"plugin {plugin!r} registered {setting!r} as a setting; expected bigflow.api.Setting")
        known = self.by_name.get(setting.name)
        if known is not None and known.setting != setting:
            raise BigflowError(f"setting {setting.name!r} is declared by both {known.plugin!r} and {plugin!r}")
        self.by_name[setting.name] = Declared(setting, plugin)

    def get(self, name: str) -> Declared | None:
        return self.by_name.get(name)

    def names(self, table: str) -> list[str]:
        return [name for name, item in self.by_name.items() if item.setting.table == table]

    def nearest(self, key: str, table: str) -> str | None:
        close = difflib.get_close_matches(key, self.names(table), n=1, cutoff=0.85)
        return close[0] if close else None


    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema of the whole ``[tool.bigflow]`` table (environment tables allow user keys)."""
        def properties(table: str) -> dict[str, Any]:
            return {name: self.by_name[name].setting.json_schema() for name in sorted(self.names(table))}

        environment = {"type": "object", "properties": properties(ENVIRONMENT), "additionalProperties": True}
        project = properties(PROJECT)
        project["environments"] = {**project.get("environments", {}), "additionalProperties": environment}
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "[tool.bigflow]",
                "type": "object", "properties": project, "additionalProperties": False}


def core_registry() -> Registry:
    return Registry(Declared(setting, CORE) for setting in CORE_SETTINGS)


def is_toml_type(setting_type: type, value: Any) -> bool:
    """True when a value written in TOML has the setting's type exactly (no conversion from strings)."""
    if setting_type is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if setting_type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if setting_type is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, setting_type)


def convert(setting_type: type, value: Any) -> Any:
    """``value`` as ``setting_type``; strings (from ``bf_`` variables) are parsed. ValueError when it is not."""
    if setting_type is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif setting_type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
    elif setting_type is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif setting_type is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif setting_type is list:
        if isinstance(value, str):
            value = _json(value, "[") or [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
    elif setting_type is dict:
        if isinstance(value, str) and _json(value, "{") is not None:
            value = _json(value, "{")
        elif isinstance(value, str):
            pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
            if all(len(pair) == 2 and pair[0].strip() for pair in pairs):
                value = {k.strip(): v.strip() for k, v in pairs}
        if isinstance(value, Mapping):
            return dict(value)
    raise ValueError(TYPES[setting_type][1])


def _json(text: str, opening: str) -> Any:
    """The JSON value of ``text`` when it starts with ``opening`` (``[`` or ``{``) and parses; else None."""
    if not text.lstrip().startswith(opening):
        return None
    import json

    try:
        return json.loads(text)
    except ValueError:
        return None


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
