"""Workflow, job and DAG ids: the one place their rules live (core, the executor and the DAG renderers use it).

- A workflow id is also the Airflow DAG id (after the environment's ``dag_id_prefix``): letters, digits, ``_``,
  ``-`` and ``.`` (what Airflow allows in a DAG id), at most 250 characters.
- A job id is also the Airflow task id: letters, digits, ``_`` and ``-``, at most 250 characters. It holds no
  ``.``, so ``WORKFLOW.JOB`` splits at the last dot and a workflow id may contain dots (``sales.daily.load`` is
  job ``load`` of workflow ``sales.daily``). ``bigflow-image`` is reserved (the DAG task that fixes a run's
  image).
- A workflow secret is an environment variable name whose Kubernetes secret name (``bf_db_password`` ->
  ``bf-db-password``) Kubernetes accepts; a tag has at most 100 characters (Airflow 3 refuses longer ones).
"""

from __future__ import annotations

import re
from typing import Any

from bigflow.errors import InvalidWorkflowError, UsageError

MAX_ID_LENGTH = 250
MAX_TAG_LENGTH = 100
PIN_TASK = "bigflow-image"
RESERVED_JOB_IDS = frozenset({PIN_TASK})
_NOT_IN_WORKFLOW_ID = re.compile(r"[^A-Za-z0-9_.-]")
_NOT_IN_JOB_ID = re.compile(r"[^A-Za-z0-9_-]")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _check(kind: str, value: Any, invalid: re.Pattern[str], allowed: str, where: str) -> str:
    prefix = f"{where}: " if where else ""
    if not isinstance(value, str) or not value:
        raise InvalidWorkflowError(f"{prefix}{kind} id must be a non-empty string, got {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidWorkflowError(f"{prefix}{kind} id {value[:40]!r}... is longer than {MAX_ID_LENGTH} characters")
    if invalid.search(value):
        raise InvalidWorkflowError(f"{prefix}invalid {kind} id {value!r}: use only {allowed}; "
                                   f"e.g. {invalid.sub('_', value)!r}")
    return value


def check_workflow_id(workflow_id: Any) -> str:
    """The id if Airflow accepts it as a DAG id (``[A-Za-z0-9_.-]``, at most 250 characters)."""
    return _check("workflow", workflow_id, _NOT_IN_WORKFLOW_ID, "letters, digits, '_', '.' and '-'", "")


def check_job_id(job_id: Any, where: str = "job graph") -> str:
    """The id if it is a valid, unreserved task id without ``.`` (the CLI addresses jobs as ``WORKFLOW.JOB``)."""
    _check("job", job_id, _NOT_IN_JOB_ID, "letters, digits, '_' and '-' ('.' separates WORKFLOW.JOB)", where)
    if job_id in RESERVED_JOB_IDS:
        prefix = f"{where}: " if where else ""
        raise InvalidWorkflowError(f"{prefix}job id {job_id!r} is reserved (the DAG task that fixes a run's image); "
                                   "rename the job")
    return job_id


def check_dag_id(dag_id: str, workflow_id: str) -> str:
    """A DAG id (``dag_id_prefix`` + workflow id) as Airflow accepts it; a one-line error naming the workflow."""
    if _NOT_IN_WORKFLOW_ID.search(dag_id) or not dag_id:
        raise InvalidWorkflowError(f"DAG id {dag_id!r} (workflow {workflow_id!r}) is rejected by Airflow: use "
                                   f"letters, digits, '_', '-' and '.' only, e.g. "
                                   f"{_NOT_IN_WORKFLOW_ID.sub('_', dag_id).strip('_')[:MAX_ID_LENGTH] or 'x'!r}")
    if len(dag_id) > MAX_ID_LENGTH:
        raise InvalidWorkflowError(f"DAG id {dag_id[:40]!r}... (workflow {workflow_id!r}) has {len(dag_id)} "
                                   f"characters; Airflow allows {MAX_ID_LENGTH} (shorten dag_id_prefix or the id)")
    return dag_id


def split_job(text: str) -> tuple[str, str]:
    """``WORKFLOW_ID.JOB_ID`` -> ``(workflow_id, job_id)``, split at the last dot (job ids hold none)."""
    workflow_id, dot, job_id = text.rpartition(".")
    if not dot or not workflow_id or not job_id:
        raise UsageError(f"--job expects WORKFLOW_ID.JOB_ID, got {text!r}")
    return workflow_id, job_id


def check_tag(tag: Any, where: str) -> str:
    """A DAG tag: a string of at most 100 characters."""
    if not isinstance(tag, str):
        raise InvalidWorkflowError(f"{where}: tags must be strings, got {tag!r}")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidWorkflowError(f"{where}: tag {tag[:40]!r}... is longer than the {MAX_TAG_LENGTH} characters "
                                   "Airflow allows")
    return tag


def secret_names(secret: Any, where: str) -> tuple[str, str]:
    """``(environment variable, Kubernetes secret name)`` of a workflow secret, as in BigFlow 1.x.

    The secret ``bf_db_password`` is the key ``bf_db_password`` of the Kubernetes secret ``bf-db-password``,
    exposed to the job as the environment variable ``bf_db_password``.
    """
    if not isinstance(secret, str) or not _ENV_NAME.match(secret):
        raise InvalidWorkflowError(f"{where}: secret {secret!r} must be an environment variable name (letters, "
                                   "digits and '_', not starting with a digit), e.g. 'bf_db_password'")
    k8s_name = secret.lower().replace("_", "-").strip("-")
    if not _DNS_LABEL.match(k8s_name) or len(k8s_name) > 63:
        raise InvalidWorkflowError(f"{where}: secret {secret!r} gives the Kubernetes secret name {k8s_name!r}, "
                                   "which Kubernetes rejects; use a name like 'bf_db_password'")
    return secret, k8s_name
