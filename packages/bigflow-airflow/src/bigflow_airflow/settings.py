"""The environment's configuration keys read by bigflow-airflow, declared once with their types and defaults.

Every key is optional unless the chosen operator or deploy target needs it; see docs/airflow.md. Values may
come from ``[tool.bigflow.environments.<env>]``, a ``Config`` in code or ``bf_<key>`` variables; the
:class:`~bigflow.api.Environment` getters convert strings (``"a,b"``, ``"k=v,k2=v2"``, ``true``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bigflow.api import BigflowError, Environment, Setting

DEFAULT_NAMESPACE = "composer-user-workloads"
DEFAULT_STARTUP_TIMEOUT_SEC = 600
_POD_RESOURCES = [f"pod_{resource}_{kind}" for kind in ("request", "limit")
                  for resource in ("cpu", "memory", "ephemeral_storage")]

SETTINGS = (
    Setting("airflow_operator", str, "kubernetes", description="how DAG tasks run: 'kubernetes', 'gke', 'bash', ..."),
    Setting("dag_id_prefix", str, "", description="prefix of every DAG id"),
    Setting("dag_owner", str, "airflow", description="owner of the generated DAGs"),
    Setting("dag_tags", list, description="tags of the generated DAGs"),
    Setting("dag_start_time", str, description="start date of the DAGs (default: the commit time)"),
    Setting("dag_pin_image", bool, True, description="pin the image by digest in the DAGs"),
    Setting("pod_command", str, "bigflow", description="the command the task pods run"),
    Setting("pod_namespace", str, DEFAULT_NAMESPACE, description="Kubernetes namespace of the task pods"),
    Setting("pod_service_account", str, description="Kubernetes service account of the task pods"),
    *(Setting(key, str, description="Kubernetes resource of the task pods") for key in _POD_RESOURCES),
    Setting("pod_node_selector", dict, description="node selector of the task pods"),
    Setting("pod_config_file", str, description="kubeconfig file of the Kubernetes operator"),
    Setting("pod_startup_timeout_sec", int, DEFAULT_STARTUP_TIMEOUT_SEC, description="pod startup timeout"),
    Setting("kubernetes_conn_id", str, description="Airflow connection of the Kubernetes operator"),
    Setting("gke_project_id", str, description="project of the GKE cluster (default: gcp_project_id)"),
    Setting("gke_location", str, description="region or zone of the GKE cluster (default: region)"),
    Setting("gke_cluster_name", str, description="the GKE cluster the gke operator runs pods on"),
    Setting("gcp_conn_id", str, description="Airflow connection to Google Cloud"),
    Setting("dags_bucket", str, description="the Composer environment's bucket (needed by 'deploy composer')"),
    Setting("storage_endpoint", str, description="a Cloud Storage emulator's URL (default: Google Cloud Storage)"),
    Setting("storage_timeout_sec", float, description="how long a Cloud Storage call may try before the deploy "
            "gives up (each request gets half)"),
    Setting("deploy_lock_timeout_sec", float, description="how long a deploy waits for another one's lock"),
    Setting("deploy_lock_lease_sec", float, description="a deploy lock nobody renewed this long is taken over"),
    Setting("airflow_home", str, description="AIRFLOW_HOME of the local Airflow ('deploy local-airflow')"),
    Setting("airflow_bin", str, description="the local Airflow's airflow executable"),
    *(Setting(f"airflow{major}_bin", str, description=f"the airflow of an Airflow {major} venv ('airflow rehearse "
              f"--airflow {major}')") for major in (2, 3)),
    Setting("bigflow_bin", str, description="the bigflow executable local Airflow tasks run"),
)


def _where(key: str, env: str) -> str:
    return f"configuration key {key!r} of environment {env!r}"


@dataclass(frozen=True)
class DagSettings:
    """What the environment says about generated DAGs (see docs/airflow.md, "Configuration keys")."""

    env: str
    operator: str = "kubernetes"
    docker_repository: str | None = None
    dag_id_prefix: str = ""
    owner: str = "airflow"
    tags: tuple[str, ...] = ()
    start_time: str | None = None
    pin_image: bool = True
    pod_command: str = "bigflow"
    namespace: str = DEFAULT_NAMESPACE
    service_account: str | None = None
    resources: dict[str, dict[str, str]] = field(default_factory=dict)  # {"requests": {...}, "limits": {...}}
    node_selector: dict[str, str] = field(default_factory=dict)
    config_file: str | None = None
    kubernetes_conn_id: str | None = None
    startup_timeout_sec: int = 600
    gke_project_id: str | None = None
    gke_location: str | None = None
    gke_cluster_name: str | None = None
    gcp_conn_id: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)  # every key, for third-party renderers

    @classmethod
    def from_config(cls, values: Mapping[str, Any], env: str) -> DagSettings:
        config = Environment.of(values, env)
        resources: dict[str, dict[str, str]] = {}
        for key in _POD_RESOURCES:
            amount = config.str(key)
            if amount:
                kind, resource = key.rsplit("_", 1)[1] + "s", key.removeprefix("pod_").rsplit("_", 1)[0]
                resources.setdefault(kind, {})[resource.replace("_", "-")] = amount
        startup = config.int("pod_startup_timeout_sec", DEFAULT_STARTUP_TIMEOUT_SEC)
        if startup is None or startup < 1:
            raise BigflowError(f"{_where('pod_startup_timeout_sec', env)} must be a whole number >= 1, got {startup!r}")
        return cls(
            env=env,
            operator=config.str("airflow_operator", "kubernetes"),
            docker_repository=config.str("docker_repository"),
            dag_id_prefix=config.str("dag_id_prefix", ""),
            owner=config.str("dag_owner", "airflow"),
            tags=tuple(config.list("dag_tags")),
            start_time=config.str("dag_start_time"),
            pin_image=config.bool("dag_pin_image", True),
            pod_command=config.str("pod_command", "bigflow"),
            namespace=config.str("pod_namespace", DEFAULT_NAMESPACE),
            service_account=config.str("pod_service_account"),
            resources=resources,
            node_selector={str(k): str(v) for k, v in sorted(config.table("pod_node_selector").items())},
            config_file=config.str("pod_config_file"),
            kubernetes_conn_id=config.str("kubernetes_conn_id"),
            startup_timeout_sec=startup,
            gke_project_id=config.str("gke_project_id") or config.str("gcp_project_id"),
            gke_location=config.str("gke_location") or config.str("region"),
            gke_cluster_name=config.str("gke_cluster_name"),
            gcp_conn_id=config.str("gcp_conn_id"),
            values=config,
        )

    def require(self, key: str, value: str | None, why: str) -> str:
        """``value``, or a one-line error saying which key to set in which environment."""
        if not value:
            raise BigflowError(f"{_where(key, self.env)} is not set; {why} — add it to "
                               f"[tool.bigflow.environments.{self.env}] in pyproject.toml")
        return value
