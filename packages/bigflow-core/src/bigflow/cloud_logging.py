"""Cloud Logging (Logs Explorer) filters and links for a project's jobs, from the fields bigflow logs.

Where the logs of a deployed job are:

- **Composer / GKE**: each job runs in a pod whose stdout carries one JSON record per line (``bigflow.log``,
  JSON inside containers); Cloud Logging parses it into ``jsonPayload`` fields ``workflow_id``, ``job_id``,
  ``run_id``, ``runtime`` and ``env`` of resource type ``k8s_container``.
- **Dataflow** (``dataflow_step``) and **Dataproc** (``cloud_dataproc_job``, ``cloud_dataproc_batch``):
  workers do not log bigflow's fields, so they are found by the job's name, which plugins start with
  :func:`name_prefix` of the workflow and job ids. Their queries are given only for workflows with a job of
  that technology (:func:`technologies`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from bigflow.errors import UsageError

CONSOLE = "https://console.cloud.google.com/logs/query"
DATAFLOW, DATAPROC = "dataflow", "dataproc"
#: Where a job class comes from (a part of its module path) -> the service its jobs start.
_TECHNOLOGY_MODULES = {"bigflow_beam": DATAFLOW, "dataflow": DATAFLOW, "bigflow_spark": DATAPROC,
                       "dataproc": DATAPROC}
_DURATION = re.compile(r"^(\d+)([mhdw])$")


def name_prefix(workflow_id: str, job_id: str | None = None) -> str:
    """How Dataflow job names and Dataproc job/batch ids of a job begin: ``<workflow>-<job>``, lowercase,
    every character outside ``[a-z0-9-]`` replaced by ``-`` (the names those services accept)."""
    text = workflow_id if job_id is None else f"{workflow_id}-{job_id}"
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field: str, values: list[str], operator: str = "=") -> str:
    clauses = [f"{field}{operator}{_quoted(v)}" for v in values]
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"


def duration(text: str) -> tuple[str, str]:
    """``30m``/``6h``/``1d``/``2w`` -> (ISO 8601 duration for the console, gcloud ``--freshness``)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"invalid --since {text!r}: use a number and m, h, d or w, e.g. '6h' or '1d'")
    amount, unit = int(match[1]), match[2]
    iso = {"m": f"PT{amount}M", "h": f"PT{amount}H", "d": f"P{amount}D", "w": f"P{amount * 7}D"}[unit]
    return iso, f"{amount * 7}d" if unit == "w" else f"{amount}{unit}"


@dataclass(frozen=True)
class LogQuery:
    """One place to look: a title and its Logging query language filter."""

    title: str
    filter: str

    def url(self, gcp_project: str | None, since: str = "1d") -> str:
        iso, _ = duration(since)
        link = f"{CONSOLE};query={quote(self.filter, safe='')};duration={iso}"
        return link + (f"?project={quote(gcp_project, safe='')}" if gcp_project else "")

    def gcloud(self, gcp_project: str | None, since: str = "1d") -> str:
        _, freshness = duration(since)
        project = f" --project={shlex.quote(gcp_project)}" if gcp_project else ""
        return f"gcloud logging read {shlex.quote(self.filter)}{project} --freshness={freshness}"


def technologies(jobs) -> set[str]:
    """The services (``DATAFLOW``, ``DATAPROC``) these jobs start, from the modules of their classes."""
    found = set()
    for job in jobs:
        for part in type(job).__module__.split("."):
            if part in _TECHNOLOGY_MODULES:
                found.add(_TECHNOLOGY_MODULES[part])
    return found


def queries(workflow_ids: list[str], job_id: str | None = None, run_id: str | None = None,
            env: str | None = None, region: str | None = None,
            uses: set[str] = frozenset({DATAFLOW, DATAPROC})) -> list[LogQuery]:
    """Filters for the pods (Composer/GKE) of these workflows (and job), and for the Dataflow and Dataproc
    jobs they start when they ``use`` those services."""
    pods = ['resource.type="k8s_container"']
    if workflow_ids:
        pods.append(_any_of("jsonPayload.workflow_id", workflow_ids))
    if job_id:
        pods.append(f"jsonPayload.job_id={_quoted(job_id)}")
    if run_id:
        pods.append(f"jsonPayload.run_id={_quoted(run_id)}")
    if env:
        pods.append(f"jsonPayload.env={_quoted(env)}")
    prefixes = [f"^{name_prefix(w, job_id)}" for w in workflow_ids]  # only [a-z0-9-]: nothing to escape
    dataflow = ['resource.type="dataflow_step"']
    jobs = ['resource.type="cloud_dataproc_job"']
    batches = ['resource.type="cloud_dataproc_batch"']
    if prefixes:
        dataflow.append(_any_of("resource.labels.job_name", prefixes, "=~"))
        jobs.append(_any_of("resource.labels.job_id", prefixes, "=~"))
        batches.append(_any_of("resource.labels.batch_id", prefixes, "=~"))
    if region:
        dataflow.append(f"resource.labels.region={_quoted(region)}")
        jobs.append(f"resource.labels.region={_quoted(region)}")
        batches.append(f"resource.labels.location={_quoted(region)}")
    found = [LogQuery("Composer / GKE: the jobs' own logs (bigflow's JSON fields)", " AND ".join(pods))]
    if DATAFLOW in uses:
        found.append(LogQuery("Dataflow: pipelines started by the jobs", " AND ".join(dataflow)))
    if DATAPROC in uses:
        found.append(LogQuery("Dataproc: Spark jobs and batches started by the jobs",
                              f"({' AND '.join(jobs)}) OR ({' AND '.join(batches)})"))
    return found
