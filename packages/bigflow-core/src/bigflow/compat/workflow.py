"""BigFlow 1.x's job-graph API, mapped onto today's workflow model (``bigflow.workflow.JobGraph``).

- ``WorkflowJob(job, name)``: 1.x's node of a job graph (equal by ``name``), returned by
  ``Workflow.build_sequential_order()``; a graph may be given as ``WorkflowJob`` nodes too (1.x tests did).
- ``Definition(graph)``: 1.x's job graph, validated when built (a cycle raises ``InvalidJobGraph``).
- ``LegacyWorkflow``: 1.x's graph walkers on ``Workflow`` (``build_sequential_order``, ``call_on_graph_nodes``
  and their ``_``-prefixed 1.x spellings).
- ``job_node``: how a job of a 1.x definition is identified: 1.x accepted any ``id`` (spaces, mock objects);
  a job id Airflow refuses is a warning here (``bigflow run`` works, ``bigflow build dags`` refuses it).
- ``execute_job``: runs a job through ``execute(context)``, or 1.x's old ``run(runtime_str)``; ``LegacyJob``
  gives ``bigflow.Job`` 1.x's deprecated ``run(runtime)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bigflow.workflow import JobContext, JobGraph

# 1.x constants (seconds, as floats like 1.x's ``timedelta.total_seconds()``)
DEFAULT_EXECUTION_TIMEOUT_IN_SECONDS = 3 * 3600.0
DEFAULT_PIPELINE_LEVEL_EXECUTION_TIMEOUT_SHIFT_IN_SECONDS = 120.0


def execute_job(job: Any, context: JobContext) -> Any:
    """Call ``job.execute(context)``; a 1.x job with only ``run(runtime_str)`` gets that, with a warning."""
    execute = getattr(job, "execute", None)
    if execute is not None:
        return execute(context)
    warnings.warn(f"job {job.id!r} has no execute(context); calling the deprecated run(runtime_str)",
                  DeprecationWarning, stacklevel=2)
    return job.run(context.runtime_str)


class LegacyJob:
    """1.x's ``Job.run(runtime)`` (mixed into ``bigflow.Job``)."""

    def run(self, runtime: str | date | datetime | None = None) -> Any:
        """Deprecated (1.x): build a context for ``runtime`` and call ``execute``."""
        from bigflow.workflow import JobContext

        warnings.warn("Job.run is deprecated, use Job.execute(context)", DeprecationWarning, stacklevel=2)
        return self.execute(JobContext.make(runtime=runtime))  # type: ignore[attr-defined]


class WorkflowJob:
    """1.x node of a job graph: a job under a ``name`` (nodes are equal when their names are)."""

    def __init__(self, job: Any, name: Hashable) -> None:
        self.job = job
        self.name = name

    @property
    def id(self) -> Any:
        return self.job.id

    def _settings(self) -> Any:
        from bigflow.workflow import job_settings

        return job_settings(self.job)

    @property
    def retry_count(self) -> int:
        return self._settings().retry_count

    @property
    def retry_pause_sec(self) -> float:
        return self._settings().retry_pause_sec

    @property
    def execution_timeout_sec(self) -> float:
        return self._settings().execution_timeout_sec

    def execute(self, context: JobContext) -> Any:
        return execute_job(self.job, context)

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkflowJob) and self.name == other.name

    def __repr__(self) -> str:
        return f"WorkflowJob(job={self.job!r}, name={self.name!r})"


def _tolerated(job_id: Any) -> bool:
    """Ids 1.x accepted that today's model keeps running locally: any non-string object, or a string of at
    most 250 characters, without ``.`` (it separates ``WORKFLOW.JOB`` on the command line), not reserved."""
    from bigflow.ids import MAX_ID_LENGTH, RESERVED_JOB_IDS

    if isinstance(job_id, str):
        return bool(job_id) and "." not in job_id and len(job_id) <= MAX_ID_LENGTH and job_id not in RESERVED_JOB_IDS
    return job_id is not None and isinstance(job_id, Hashable)


def job_node(node: Any, where: str) -> tuple[Hashable, Any]:
    """``(job id, job)`` of a node of a definition (a job or a ``WorkflowJob``).

    A job id Airflow refuses but 1.x accepted (``'first job'``) is a warning that names the fix; an empty or
    dotted id is an error. A ``WorkflowJob`` whose job has no string id is known by its 1.x name.
    """
    from bigflow.errors import InvalidWorkflowError
    from bigflow.ids import check_job_id

    job, job_id = node, getattr(node, "id", None)
    if isinstance(node, WorkflowJob):
        job, job_id = node.job, node.id if isinstance(node.id, str) else node.name
    try:
        check_job_id(job_id, where)
    except InvalidWorkflowError as error:
        if not _tolerated(job_id):
            raise
        warnings.warn(f"{error} (bigflow run accepts it as 1.x did; bigflow build dags refuses it)",
                      UserWarning, stacklevel=4)
    if not callable(getattr(job, "execute", None)) and not callable(getattr(job, "run", None)):
        raise InvalidWorkflowError(f"{where}: job {job_id!r} has no execute(context) method")
    return job_id, job


def sequential_order(graph: JobGraph) -> list[WorkflowJob]:
    """1.x: the jobs, wrapped, in topological order."""
    return [WorkflowJob(job, job_id) for job_id, job in zip(graph.job_ids, graph.jobs, strict=True)]


def call_on_graph_nodes(graph: JobGraph, consumer: Callable[[WorkflowJob, list[WorkflowJob]], Any]) -> None:
    """1.x: ``consumer(job, upstream_jobs)`` for every job, in topological order."""
    wrapped = {job.name: job for job in sequential_order(graph)}
    for job_id, job in wrapped.items():
        consumer(job, [wrapped[source] for source in graph.upstream_ids[job_id]])


class Definition:
    """1.x job graph: ``{job: [downstream jobs, ...]}``, or a list of jobs run one after another.

    Validated when built, as in 1.x (a cycle raises ``InvalidJobGraph``); a ``Workflow`` given it validates it
    again, so its errors name the workflow.
    """

    def __init__(self, jobs: Mapping[Any, Iterable[Any]] | Sequence[Any]) -> None:
        from bigflow.workflow import JobGraph

        self.source = jobs
        self.graph = JobGraph(jobs)

    def sequential_order(self) -> list[WorkflowJob]:
        """1.x: the jobs, wrapped, in topological order."""
        return sequential_order(self.graph)

    def call_on_graph_nodes(self, consumer: Callable[[WorkflowJob, list[WorkflowJob]], Any]) -> None:
        """1.x: ``consumer(job, upstream_jobs)`` for every job, in topological order."""
        call_on_graph_nodes(self.graph, consumer)

    _sequential_order = sequential_order
    _call_on_graph_nodes = call_on_graph_nodes


class LegacyWorkflow:
    """1.x's graph walkers of ``Workflow`` (mixed into it; ``self.graph`` is the workflow's ``JobGraph``)."""

    graph: JobGraph

    def build_sequential_order(self) -> list[WorkflowJob]:
        """1.x: the jobs, wrapped, in topological order."""
        return sequential_order(self.graph)

    def call_on_graph_nodes(self, consumer: Callable[[WorkflowJob, list[WorkflowJob]], Any]) -> None:
        """1.x: ``consumer(job, upstream_jobs)`` for every job, in topological order."""
        call_on_graph_nodes(self.graph, consumer)

    _build_sequential_order = build_sequential_order
    _call_on_graph_nodes = call_on_graph_nodes
