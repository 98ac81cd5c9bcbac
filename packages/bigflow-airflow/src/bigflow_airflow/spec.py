"""What a DAG file says, independent of the operator style: the input of every DAG renderer.

``dag_spec`` reads one ``bigflow.Workflow`` (its jobs, their upstream jobs, retries, timeouts, schedule,
secrets, ...) plus the environment's settings, and checks everything Airflow would reject, so a renderer
only formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bigflow.api import BigflowError, ids, schedules
from bigflow_airflow.ids import pod_name
from bigflow_airflow.settings import DagSettings


@dataclass(frozen=True)
class TaskSpec:
    """One job as an Airflow task."""

    task_id: str  # the job id
    job_ref: str  # WORKFLOW_ID.JOB_ID, what `bigflow run --job` takes
    pod_name: str
    upstream: tuple[str, ...]
    retries: int
    retry_delay_sec: int
    timeout_sec: int


@dataclass(frozen=True)
class DagSpec:
    """One workflow as an Airflow DAG, in one environment, for one project version."""

    dag_id: str
    workflow_id: str
    project: str
    version: str
    env: str
    image: str | None
    schedule: schedules.Schedule
    start_date: datetime  # UTC
    catchup: bool
    depends_on_past: bool
    max_active_runs: int
    owner: str
    tags: tuple[str, ...]
    description: str
    secrets: tuple[tuple[str, str], ...]  # (environment variable, Kubernetes secret)
    tasks: tuple[TaskSpec, ...]
    settings: DagSettings
    generator: str = ""  # "bigflow-airflow X.Y.Z"
    extra: Mapping[str, Any] = field(default_factory=dict)  # renderer-specific inputs (bash: bigflow, project_root)


def _attr(obj: Any, name: str, default: Any) -> Any:
    value = getattr(obj, name, None)
    return default if value is None else value


def _setting(job: Any, name: str, minimum: int) -> int:
    """A retry/timeout attribute of a job (duck-typed jobs may lack it: ``Job``'s default, as in 1.x)."""
    value = getattr(job, name, None)
    if value is None or (value == 0 and minimum > 0):
        from bigflow.api import Job

        value = getattr(Job, name)
    if type(value) is int and value >= minimum:  # the common case, checked first: this runs for every job
        return value
    seconds = getattr(value, "total_seconds", lambda: value)()
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < minimum:
        raise BigflowError(f"job {job.id!r}: {name} must be a number >= {minimum}, got {value!r}")
    return int(seconds)


def _tasks(workflow: Any) -> tuple[TaskSpec, ...]:
    """The jobs in the workflow's (stable, topological) order, each with its upstream job ids."""
    workflow_id = workflow.workflow_id
    tasks = []
    for job in workflow.jobs:
        job_id = ids.check_job_id(getattr(job, "id", None), f"workflow {workflow_id!r}")
        tasks.append(TaskSpec(
            task_id=job_id,
            job_ref=f"{workflow_id}.{job_id}",
            pod_name=pod_name(job_id),
            upstream=tuple(workflow.upstream(job_id)),
            retries=_setting(job, "retry_count", 0),
            retry_delay_sec=_setting(job, "retry_pause_sec", 0),
            timeout_sec=_setting(job, "execution_timeout_sec", 1),
        ))
    if not tasks:
        raise BigflowError(f"workflow {workflow_id!r} has no jobs; an Airflow DAG needs at least one task")
    return tuple(tasks)


def start_date(workflow: Any, start_time: datetime) -> datetime:
    """The DAG's ``start_date``: the workflow's ``start_time_factory`` applied to the build's start time."""
    factory = getattr(workflow, "start_time_factory", None)
    value = factory(start_time) if factory is not None else start_time
    if not isinstance(value, datetime):
        raise BigflowError(f"workflow {workflow.workflow_id!r}: start_time_factory returned {value!r}, not a datetime")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=UTC, microsecond=0)


def dag_spec(workflow: Any, *, project: str, version: str, image: str | None, start_time: datetime,
             settings: DagSettings, generator: str, extra: Mapping[str, Any] | None = None) -> DagSpec:
    """Everything a renderer needs to write the DAG file of ``workflow``; one-line errors for bad input."""
    workflow_id = workflow.workflow_id
    dag_id = ids.check_dag_id(f"{settings.dag_id_prefix}{ids.check_workflow_id(workflow_id)}", workflow_id)
    secrets = tuple(ids.secret_names(s, f"workflow {workflow_id!r}") for s in _attr(workflow, "secrets", ()))
    tags = tuple(dict.fromkeys([project, *settings.tags, *_attr(workflow, "tags", ())]))
    for tag in tags:
        ids.check_tag(tag, f"workflow {workflow_id!r}")
    max_active_runs = int(_attr(workflow, "max_active_runs", 1))
    schedule = schedules.parse(getattr(workflow, "schedule_interval", "@daily"), workflow_id, max_active_runs)
    return DagSpec(
        dag_id=dag_id,
        workflow_id=workflow_id,
        project=project,
        version=version,
        env=settings.env,
        image=image,
        schedule=schedule,
        start_date=start_date(workflow, start_time),
        catchup=bool(_attr(workflow, "catchup", False)),
        depends_on_past=bool(_attr(workflow, "depends_on_past", True)),
        max_active_runs=max_active_runs,
        owner=str(_attr(workflow, "owner", settings.owner)),
        tags=tags,
        description=str(_attr(workflow, "description", "")),
        secrets=secrets,
        tasks=_tasks(workflow),
        settings=settings,
        generator=generator,
        extra=dict(extra or {}),
    )
