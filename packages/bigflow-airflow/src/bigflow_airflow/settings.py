"""The environment's configuration keys read by bigflow-airflow, checked once, with their defaults.

Every key is optional unless the chosen operator or deploy target needs it; see docs/airflow.md. Values may
come from ``[tool.bigflow.environments.<env>]``, a ``Config`` in code or ``bf_<key>`` variables, so lists and
tables are also accepted as strings (``"a,b"``, ``"k=v,k2=v2"``) and booleans as ``true``/``false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bigflow.api import BigflowError

DEFAULT_NAMESPACE = "composer-user-workloads"


def _where(key: str, env: str) -> str:
    return f"configuration key {key!r} of environment {env!r}"


def _str(values: Mapping[str, Any], key: str, env: str, default: str | None = None) -> str | None:
    value = values.get(key, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise BigflowError(f"{_where(key, env)} must be a string, got {value!r}")
    return str(value)  # a plain str: a SecretStr would print as '***' in a DAG file


def _int(values: Mapping[str, Any], key: str, env: str, default: int) -> int:
    value = values.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BigflowError(f"{_where(key, env)} must be a whole number >= 1, got {value!r}")
    return value


def _bool(values: Mapping[str, Any], key: str, env: str, default: bool) -> bool:
    value = values.get(key, default)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        value = value.strip().lower() in ("true", "1", "yes")
    if not isinstance(value, bool):
        raise BigflowError(f"{_where(key, env)} must be true or false, got {value!r}")
    return value


def _list(values: Mapping[str, Any], key: str, env: str) -> tuple[str, ...]:
    value = values.get(key) or ()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BigflowError(f"{_where(key, env)} must be a list of strings (or 'a,b'), got {value!r}")
    return tuple(value)


def _table(values: Mapping[str, Any], key: str, env: str) -> dict[str, str]:
    value = values.get(key) or {}
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if not all(len(pair) == 2 and pair[0].strip() for pair in pairs):
            raise BigflowError(f"{_where(key, env)} must be a table or 'key=value,key2=value2', got {value!r}")
        value = {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(value, Mapping) or not all(isinstance(v, str | int | float) for v in value.values()):
        raise BigflowError(f"{_where(key, env)} must be a table of strings, got {value!r}")
    return {str(k): str(v) for k, v in sorted(value.items())}


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
        resources: dict[str, dict[str, str]] = {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory", "ephemeral_storage"):
                amount = _str(values, f"pod_{resource}_{kind[:-1]}", env)
                if amount:
                    resources.setdefault(kind, {})[resource.replace("_", "-")] = amount
        return cls(
            env=env,
            operator=_str(values, "airflow_operator", env, "kubernetes") or "kubernetes",
            docker_repository=_str(values, "docker_repository", env),
            dag_id_prefix=_str(values, "dag_id_prefix", env, "") or "",
            owner=_str(values, "dag_owner", env, "airflow") or "airflow",
            tags=_list(values, "dag_tags", env),
            start_time=_str(values, "dag_start_time", env),
            pin_image=_bool(values, "dag_pin_image", env, True),
            pod_command=_str(values, "pod_command", env, "bigflow") or "bigflow",
            namespace=_str(values, "pod_namespace", env, DEFAULT_NAMESPACE) or DEFAULT_NAMESPACE,
            service_account=_str(values, "pod_service_account", env),
            resources=resources,
            node_selector=_table(values, "pod_node_selector", env),
            config_file=_str(values, "pod_config_file", env),
            kubernetes_conn_id=_str(values, "kubernetes_conn_id", env),
            startup_timeout_sec=_int(values, "pod_startup_timeout_sec", env, 600),
            gke_project_id=_str(values, "gke_project_id", env) or _str(values, "gcp_project_id", env),
            gke_location=_str(values, "gke_location", env) or _str(values, "region", env),
            gke_cluster_name=_str(values, "gke_cluster_name", env),
            gcp_conn_id=_str(values, "gcp_conn_id", env),
            values=dict(values),
        )

    def require(self, key: str, value: str | None, why: str) -> str:
        """``value``, or a one-line error saying which key to set in which environment."""
        if not value:
            raise BigflowError(f"{_where(key, self.env)} is not set; {why} — add it to "
                               f"[tool.bigflow.environments.{self.env}] in pyproject.toml")
        return value
