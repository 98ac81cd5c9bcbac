"""Names Airflow and Kubernetes accept: DAG ids, task ids, pod names, secret names.

Airflow keys (DAG and task ids) match ``^[A-Za-z0-9_.-]+$`` and have at most 250 characters. bigflow
additionally keeps ``.`` out of workflow ids, because ``bigflow run --job WORKFLOW.JOB`` splits at the first dot.
"""

from __future__ import annotations

import re

from bigflow.api import BigflowError

MAX_KEY = 250
_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NOT_DNS = re.compile(r"[^a-z0-9-]+")
PIN_TASK = "bigflow-image"  # the first task of a run: it fixes the image of the whole run
RESERVED_TASK_IDS = frozenset({PIN_TASK})


def _suggest(text: str) -> str:
    fixed = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"
    return fixed[:MAX_KEY]


def check_dag_id(dag_id: str, workflow_id: str) -> str:
    if not isinstance(workflow_id, str) or not workflow_id:
        raise BigflowError(f"workflow id {workflow_id!r} cannot be an Airflow DAG id: it must be a non-empty string")
    if "." in workflow_id:
        raise BigflowError(f"workflow id {workflow_id!r} contains '.', which 'bigflow run --job WORKFLOW.JOB' cannot "
                           f"address; use {workflow_id.replace('.', '_')!r}")
    if not _KEY.match(dag_id):
        raise BigflowError(f"DAG id {dag_id!r} (workflow {workflow_id!r}) is rejected by Airflow: use letters, "
                           f"digits, '_', '-' and '.' only, e.g. {_suggest(dag_id)!r}")
    if len(dag_id) > MAX_KEY:
        raise BigflowError(f"DAG id {dag_id[:40]!r}... (workflow {workflow_id!r}) has {len(dag_id)} characters; "
                           f"Airflow allows {MAX_KEY}")
    return dag_id


def check_task_id(job_id: object, workflow_id: str) -> str:
    where = f"job id {job_id!r} of workflow {workflow_id!r}"
    if not isinstance(job_id, str) or not job_id:
        raise BigflowError(f"{where} cannot be an Airflow task id: it must be a non-empty string")
    if not _KEY.match(job_id):
        raise BigflowError(f"{where} is rejected by Airflow as a task id: use letters, digits, '_', '-' and '.' "
                           f"only, e.g. {_suggest(job_id)!r}")
    if len(job_id) > MAX_KEY:
        raise BigflowError(f"{where[:60]}... has {len(job_id)} characters; Airflow allows {MAX_KEY}")
    if job_id in RESERVED_TASK_IDS:
        raise BigflowError(f"{where} is reserved by bigflow-airflow (the task that fixes a run's image); rename the job")
    return job_id


def pod_name(job_id: str) -> str:
    """A Kubernetes pod name (DNS label, at most 63 characters) derived from a job id."""
    if len(job_id) <= 50 and _DNS_LABEL.match(job_id):
        return job_id
    name = _NOT_DNS.sub("-", job_id.lower()).strip("-")[:50].strip("-")
    return name or "bigflow-job"


def secret_names(secret: object, workflow_id: str) -> tuple[str, str]:
    """``(environment variable, Kubernetes secret name)`` of a workflow secret, as in BigFlow 1.x.

    The secret ``bf_db_password`` is the key ``bf_db_password`` of the Kubernetes secret ``bf-db-password``,
    exposed to the job as the environment variable ``bf_db_password``.
    """
    if not isinstance(secret, str) or not _ENV_NAME.match(secret):
        raise BigflowError(f"secret {secret!r} of workflow {workflow_id!r} must be an environment variable name "
                           "(letters, digits and '_', not starting with a digit), e.g. 'bf_db_password'")
    k8s_name = secret.lower().replace("_", "-").strip("-")
    if not _DNS_LABEL.match(k8s_name) or len(k8s_name) > 63:
        raise BigflowError(f"secret {secret!r} of workflow {workflow_id!r} gives the Kubernetes secret name "
                           f"{k8s_name!r}, which Kubernetes rejects; use a name like 'bf_db_password'")
    return secret, k8s_name
