"""Engine settings of a PySpark job, read from the environment's configuration (``context.config``).

``spark_master`` picks the engine:

- absent, ``local``, ``local[N]`` or ``local[*]``: a local Spark in a subprocess (default ``local[*]``);
- ``spark://host:port`` (comma-separated hosts for HA masters): a Spark standalone cluster;
- ``dataproc``: Dataproc Serverless batches, or a job on the cluster named by ``dataproc_cluster``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bigflow.api import BigflowError, Environment, Setting

DEFAULT_MASTER = "local[*]"
DEFAULT_RUNTIME_VERSION = "2.2"
_LOCAL = re.compile(r"^local(\[(\*|\d+)(,\d+)?\])?$")
_STANDALONE = re.compile(r"^spark://[^/:,\s]+:\d+(,[^/:,\s]+:\d+)*$")
VALID_MASTERS = "'local', 'local[N]', 'local[*]', 'spark://HOST:PORT' or 'dataproc'"

#: none is required in every environment: spark_master = 'dataproc' needs gcp_project_id, region and a
#: staging location, checked when a job runs there
SETTINGS = (
    Setting("spark_master", str, DEFAULT_MASTER, description=f"where PySpark jobs run: {VALID_MASTERS}"),
    Setting("spark_conf", dict, description="Spark properties every job gets"),
    Setting("dataproc_staging_location", str, description="gs://BUCKET[/PREFIX] for Dataproc job files"),
    Setting("dataproc_cluster", str, description="a Dataproc cluster (default: Dataproc Serverless batches)"),
    Setting("dataproc_runtime_version", str, DEFAULT_RUNTIME_VERSION, description="Dataproc Serverless runtime"),
    Setting("dataproc_service_account", str, description="service account of Dataproc jobs"),
    Setting("dataproc_network", str, description="VPC network of Dataproc Serverless batches"),
    Setting("dataproc_subnetwork", str, description="VPC subnetwork of Dataproc Serverless batches"),
    Setting("dataproc_network_tags", list, description="network tags of Dataproc Serverless batches"),
    Setting("dataproc_container_image", str, description="custom container image of Dataproc batches"),
    Setting("dataproc_labels", dict, description="labels of Dataproc jobs"),
)


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


def conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dataproc(config: Environment, overrides: Mapping[str, str | None]) -> DataprocSettings:
    def required(key: str, *fallbacks: str) -> str:
        value = overrides.get(key) or config.str(key)
        for fallback in fallbacks:
            value = value or config.str(fallback)
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
        cluster=config.str("dataproc_cluster"),
        runtime_version=config.str("dataproc_runtime_version", DEFAULT_RUNTIME_VERSION),
        service_account=config.str("dataproc_service_account"),
        network=config.str("dataproc_network"),
        subnetwork=config.str("dataproc_subnetwork"),
        network_tags=tuple(config.list("dataproc_network_tags")),
        container_image=config.str("dataproc_container_image"),
        labels={str(k): conf_value(v) for k, v in config.table("dataproc_labels").items()},
    )


def read_settings(config: Mapping[str, Any], overrides: Mapping[str, str | None] | None = None) -> SparkSettings:
    """Settings from an environment's configuration; ``overrides`` are values given on the job (1.x style)."""
    values = Environment.of(config)
    master = values.str("spark_master", DEFAULT_MASTER).strip()
    spark_conf = {str(k): conf_value(v) for k, v in values.table("spark_conf").items()}
    if master == "dataproc":
        return SparkSettings(master, spark_conf, _dataproc(values, overrides or {}))
    if master == "local":
        master = DEFAULT_MASTER
    if not (_LOCAL.match(master) or _STANDALONE.match(master)):
        raise BigflowError(f"unsupported spark_master {master!r}: use {VALID_MASTERS}")
    return SparkSettings(master, spark_conf)
