"""Names Kubernetes accepts, derived from bigflow ids: pod names and secret names.

Workflow, job and DAG ids themselves are checked by ``bigflow.ids`` (one home for their rules).
"""

from __future__ import annotations

import re

from bigflow.errors import BigflowError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


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
