"""``DatasetConfig``: a dataset per environment, its table aliases and properties (the 1.x API).

The first configuration is the master: the others inherit its values and override what they set. ``env``
None (new) makes a configuration apply to every environment not configured by name; ``project_id`` None
(new) means the environment's ``gcp_project_id``. Each environment's values are resolved by
:class:`bigflow.Config`, so the rules are Config's: ``{name}`` (``{env}`` included) refers to another
property, a property set to None is required from its ``bf_<name>`` variable, and errors are ``ConfigError`` s
(``ValueError`` s, as in 1.x).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bigflow.api import Config, ConfigError, current_env

if TYPE_CHECKING:
    from bigflow_bigquery.dataset import InteractiveDatasetManager

_STANDARD = ("project_id", "dataset_name", "internal_tables", "external_tables", "tables_labels",
             "dataset_labels", "job_labels", "location")
ANY_ENV = "*"


@dataclass(frozen=True)
class DatasetSpec:
    """One environment's resolved dataset configuration."""

    env: str | None
    project_id: str | None
    dataset_name: str
    internal_tables: tuple[str, ...] = ()
    external_tables: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    tables_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dataset_labels: Mapping[str, str] = field(default_factory=dict)
    job_labels: Mapping[str, str] = field(default_factory=dict)
    location: str | None = None


class DatasetConfig:
    """A dataset per environment (1.x ``bigflow.bigquery.DatasetConfig``)."""

    def __init__(self, env: str | None = None, project_id: str | None = None, dataset_name: str = "None",
                 internal_tables: list[str] | None = None, external_tables: dict[str, str] | None = None,
                 properties: dict[str, Any] | None = None, is_master: bool = True, is_default: bool = True,
                 tables_labels: dict[str, dict[str, str]] | None = None, dataset_labels: dict[str, str] | None = None,
                 job_labels: dict[str, str] | None = None, location: str | None = None) -> None:
        self._configs: dict[str, dict[str, Any]] = {}
        self._master: str | None = None
        self._default: str | None = None
        self._add(env, is_default, properties, project_id=project_id, dataset_name=dataset_name,
                  internal_tables=list(internal_tables or []), external_tables=dict(external_tables or {}),
                  tables_labels=dict(tables_labels or {}), dataset_labels=dict(dataset_labels or {}),
                  job_labels=dict(job_labels or {}), location=location)
        if is_master:
            self._master = env or ANY_ENV

    def add_configuration(self, env: str, project_id: str | None = None, dataset_name: str | None = None,
                          internal_tables: list[str] | None = None, external_tables: dict[str, str] | None = None,
                          properties: dict[str, Any] | None = None, is_default: bool = False,
                          tables_labels: dict[str, dict[str, str]] | None = None,
                          dataset_labels: dict[str, str] | None = None, job_labels: dict[str, str] | None = None,
                          location: str | None = None) -> DatasetConfig:
        """Configure another environment (chainable); unset values come from the master configuration."""
        given = {"project_id": project_id, "dataset_name": dataset_name, "internal_tables": internal_tables,
                 "external_tables": external_tables, "tables_labels": tables_labels,
                 "dataset_labels": dataset_labels, "job_labels": job_labels, "location": location}
        self._add(env, is_default, properties, **{k: v for k, v in given.items() if v})
        return self

    def _add(self, env: str | None, is_default: bool, properties: dict[str, Any] | None, **values: Any) -> None:
        name = env or ANY_ENV
        if name in self._configs:
            raise ConfigError(f"DatasetConfig: environment {name!r} is configured twice")
        clash = sorted(set(properties or {}) & set(_STANDARD))
        if clash:
            raise ConfigError(f"DatasetConfig: property {clash[0]!r} is reserved; pass it as an argument")
        if is_default:
            if self._default is not None and self._default != name:
                raise ConfigError(f"DatasetConfig: both {self._default!r} and {name!r} are marked is_default")
            self._default = name
        self._configs[name] = {**(properties or {}), **values}

    @property
    def environments(self) -> list[str]:
        return [name for name in self._configs if name != ANY_ENV]

    def _env_name(self, env: str | None) -> tuple[str, str | None]:
        """The configuration to use and the environment's name (None when none is given or current)."""
        requested = env or current_env()
        if requested is None:
            name = self._default or self._master or next(iter(self._configs))
            return name, None if name == ANY_ENV else name
        if requested in self._configs:
            return requested, requested
        if ANY_ENV in self._configs:
            return ANY_ENV, requested
        close = difflib.get_close_matches(requested, self.environments, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"DatasetConfig has no configuration for environment {requested!r} (configured: "
            f"{', '.join(self.environments)}){hint}; add .add_configuration({requested!r}, project_id=...)"
        )

    def resolve(self, env: str | None = None) -> dict[str, Any]:
        """Every value of an environment (master values overridden by its own), resolved by a ``Config``."""
        name, actual = self._env_name(env)
        values = dict(self._configs.get(self._master, {})) if self._master and self._master != name else {}
        values.update(self._configs[name])
        optional = {key: values.pop(key) for key in ("project_id", "location") if values.get(key) is None}
        label = actual or ANY_ENV
        resolved = {**Config(label, values).resolve(label), **optional}
        resolved["env"] = actual
        return resolved

    def resolve_property(self, property_name: str, env: str | None = None) -> Any:
        values = self.resolve(env)
        if property_name not in values:
            raise ConfigError(f"DatasetConfig has no property {property_name!r}")
        return values[property_name]

    def resolve_project_id(self, env: str | None = None) -> str | None:
        return self.resolve_property("project_id", env)

    def resolve_dataset_name(self, env: str | None = None) -> str:
        return self.resolve_property("dataset_name", env)

    def resolve_internal_tables(self, env: str | None = None) -> list[str]:
        return self.resolve_property("internal_tables", env)

    def resolve_external_tables(self, env: str | None = None) -> dict[str, str]:
        return self.resolve_property("external_tables", env)

    def resolve_tables_labels(self, env: str | None = None) -> dict[str, dict[str, str]]:
        return self.resolve_property("tables_labels", env)

    def resolve_dataset_labels(self, env: str | None = None) -> dict[str, str]:
        return self.resolve_property("dataset_labels", env)

    def resolve_job_labels(self, env: str | None = None) -> dict[str, str]:
        return self.resolve_property("job_labels", env)

    def resolve_extra_properties(self, env: str | None = None) -> dict[str, Any]:
        return {k: v for k, v in self.resolve(env).items() if k not in (*_STANDARD, "env")}

    def spec(self, env: str | None = None) -> DatasetSpec:
        values = self.resolve(env)
        return DatasetSpec(
            env=values["env"], project_id=values.get("project_id"), dataset_name=values["dataset_name"],
            internal_tables=tuple(values.get("internal_tables") or ()),
            external_tables=dict(values.get("external_tables") or {}),
            extras={k: v for k, v in values.items() if k not in (*_STANDARD, "env")},
            tables_labels=dict(values.get("tables_labels") or {}),
            dataset_labels=dict(values.get("dataset_labels") or {}),
            job_labels=dict(values.get("job_labels") or {}), location=values.get("location"),
        )

    def pretty_print(self, env: str | None = None) -> str:
        values = self.resolve(env)
        return "\n".join(f"{key}: {value!r}" for key, value in sorted(values.items(), key=lambda kv: kv[0]))

    def create_dataset_manager(self, env: str | None = None) -> InteractiveDatasetManager:
        """The dataset's lazy operations; the environment is ``env``, else the running job's, else ``bf_env``."""
        from bigflow_bigquery.dataset import InteractiveDatasetManager

        self._env_name(env)  # fail now on an unknown explicit environment
        return InteractiveDatasetManager(self, env)

    def __repr__(self) -> str:
        return f"DatasetConfig(environments={list(self._configs)})"
