"""Engine settings of a PySpark job, read from the environment's configuration (``context.config``).

``spark_master`` picks the engine:

- absent, ``local``, ``local[N]`` or ``local[*]``: a local Spark in a subprocess (default ``local[*]``);
- ``spark://host:port`` (comma-separated hosts for HA masters): a Spark standalone cluster;
- ``dataproc``: Dataproc Serverless batches, or a job on the cluster named by ``dataproc_cluster``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bigflow.api import BigflowError

DEFAULT_MASTER = "local[*]"
DEFAULT_RUNTIME_VERSION = "2.2"
_LOCAL = re.compile(r"^local(\[(\*|\d+)(,\d+)?\])?$")
_STANDALONE = re.compile(r"^spark://[^/:,\s]+:\d+(,[^/:,\s]+:\d+)*$")
VALID_MASTERS = "'local', 'local[N]', 'local[*]', 'spark://HOST:PORT' or 'dataproc'"


@dataclass(frozen=True)
class DataprocSettings:
    """Where and how a job runs on Dataproc (keys ``gcp_project_id``, ``region``, ``dataproc_*``)."""

    project_id: str
    region: str
    staging_location: str  # gs://bucket[/prefix]
    cluster: str | None = None
    runtime_version: str = DEFAULT_RUNTIME_VERSION
    service_account: str | None = None
    network: str | None = None
    subnetwork: str | None = None
    network_tags: tuple[str, ...] = ()
    container_image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.staging_location.removeprefix("gs://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        _, _, prefix = self.staging_location.removeprefix("gs://").partition("/")
        return prefix.strip("/")


@dataclass(frozen=True)
class SparkSettings:
    """The engine chosen for one environment and the Spark properties every job of it gets."""

    master: str
    spark_conf: dict[str, str] = field(default_factory=dict)
    dataproc: DataprocSettings | None = None

    @property
    def engine(self) -> str:
        """``local``, ``standalone`` or ``dataproc``."""
        if self.dataproc is not None:
            return "dataproc"
        return "standalone" if self.master.startswith("spark://") else "local"

    @property
    def standalone_addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every master of a ``spark://`` URL."""
        addresses = []
        for hostport in self.master.removeprefix("spark://").split(","):
            host, _, port = hostport.rpartition(":")
            addresses.append((host, int(port)))
        return addresses


def _text(config: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = config.get(key, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise BigflowError(f"configuration key {key!r} must be a string, got {value!r}")
    return value


def _table(config: Mapping[str, Any], key: str) -> dict[str, str]:
    value = config.get(key) or {}
    if not isinstance(value, Mapping):
        raise BigflowError(f"configuration key {key!r} must be a table of strings, got {value!r}")
    return {str(k): conf_value(v) for k, v in value.items()}


def conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tags(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key) or ()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise BigflowError(f"configuration key {key!r} must be a list of strings, got {value!r}")
    return tuple(value)


def _dataproc(config: Mapping[str, Any], overrides: Mapping[str, str | None]) -> DataprocSettings:
    def required(key: str, *fallbacks: str) -> str:
        value = overrides.get(key) or _text(config, key)
        for fallback in fallbacks:
            value = value or _text(config, fallback)
        if not value:
            also = "".join(f" (or {f!r})" for f in fallbacks)
            raise BigflowError(f"spark_master = 'dataproc' needs configuration key {key!r}{also}; "
                               f"add it to [tool.bigflow.environments.<env>]")
        return value

    staging = required("dataproc_staging_location", "staging_location", "temp_location")
    if not staging.startswith("gs://") or not staging.removeprefix("gs://").split("/", 1)[0]:
        raise BigflowError(f"dataproc_staging_location must look like 'gs://BUCKET[/PREFIX]', got {staging!r}")
    return DataprocSettings(
        project_id=required("gcp_project_id"),
        region=required("region"),
        staging_location=staging.rstrip("/"),
        cluster=_text(config, "dataproc_cluster"),
        runtime_version=_text(config, "dataproc_runtime_version") or DEFAULT_RUNTIME_VERSION,
        service_account=_text(config, "dataproc_service_account"),
        network=_text(config, "dataproc_network"),
        subnetwork=_text(config, "dataproc_subnetwork"),
        network_tags=_tags(config, "dataproc_network_tags"),
        container_image=_text(config, "dataproc_container_image"),
        labels=_table(config, "dataproc_labels"),
    )


def read_settings(config: Mapping[str, Any], overrides: Mapping[str, str | None] | None = None) -> SparkSettings:
    """Settings from an environment's configuration; ``overrides`` are values given on the job (1.x style)."""
    master = (_text(config, "spark_master") or DEFAULT_MASTER).strip()
    spark_conf = _table(config, "spark_conf")
    if master == "dataproc":
        return SparkSettings(master, spark_conf, _dataproc(config, overrides or {}))
    if master == "local":
        master = DEFAULT_MASTER
    if not (_LOCAL.match(master) or _STANDALONE.match(master)):
        raise BigflowError(f"unsupported spark_master {master!r}: use {VALID_MASTERS}")
    return SparkSettings(master, spark_conf)
