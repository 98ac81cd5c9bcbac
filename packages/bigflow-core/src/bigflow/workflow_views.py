"""A workflow's job graph for people and machines: a record (JSON), a text tree, Mermaid and Graphviz dot."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("text", "mermaid", "dot", "json")


def describe(workflow: Any) -> dict[str, Any]:
    """Id, schedule, jobs (topological order), edges (upstream -> downstream) and every job's type and limits."""
    from bigflow.workflow import job_settings

    graph = workflow.graph
    details = []
    for job_id, job in zip(graph.job_ids, graph.jobs, strict=True):
        settings = job_settings(job)
        details.append({"id": job_id, "type": type(job).__name__, "upstream": list(graph.upstream_ids[job_id]),
                        "retry_count": settings.retry_count, "retry_pause_sec": settings.retry_pause_sec,
                        "execution_timeout_sec": settings.execution_timeout_sec})
    schedule = workflow.schedule_interval
    return {
        "workflow_id": workflow.workflow_id,
        "schedule": "None" if schedule is None else str(schedule),
        "depends_on_past": workflow.depends_on_past,
        "jobs": list(graph.job_ids),
        "edges": [[source, target] for source in graph.job_ids for target in graph.downstream_ids[source]],
        "job_types": {d["id"]: d["type"] for d in details},
        "job_details": details,
    }


def _limits(detail: dict[str, Any]) -> str:
    parts = [detail["type"]]
    if detail["retry_count"]:
        parts.append(f"retries {detail['retry_count']} x {detail['retry_pause_sec']:g}s")
    if detail["execution_timeout_sec"]:
        parts.append(f"timeout {detail['execution_timeout_sec']:g}s")
    return ", ".join(parts)


def as_text(record: dict[str, Any]) -> str:
    """The graph as a tree from its first jobs; a job with several upstream jobs is drawn under the first one
    and referred to (``-> job (see above)``) under the others."""
    details = {d["id"]: d for d in record["job_details"]}
    downstream: dict[str, list[str]] = {job_id: [] for job_id in details}
    for source, target in record["edges"]:
        downstream[source].append(target)
    lines = [f"{record['workflow_id']} (schedule {record['schedule']}"
             + (", depends on past" if record["depends_on_past"] else "") + ")"]
    drawn: set[str] = set()

    def draw(job_id: str, prefix: str, last: bool) -> None:
        branch = "└── " if last else "├── "
        if job_id in drawn:
            lines.append(f"{prefix}{branch}-> {job_id} (see above)")
            return
        drawn.add(job_id)
        lines.append(f"{prefix}{branch}{job_id} [{_limits(details[job_id])}]")
        children = downstream[job_id]
        for index, child in enumerate(children):
            draw(child, prefix + ("    " if last else "│   "), index == len(children) - 1)

    roots = [d["id"] for d in record["job_details"] if not d["upstream"]]
    for index, root in enumerate(roots):
        draw(root, "", index == len(roots) - 1)
    return "\n".join(lines)


def _node_id(index: int) -> str:
    return f"j{index}"


def as_mermaid(record: dict[str, Any]) -> str:
    ids = {d["id"]: _node_id(i) for i, d in enumerate(record["job_details"])}
    lines = ["flowchart LR"]
    lines += [f'    {ids[d["id"]]}["{d["id"]}<br/><small>{_limits(d)}</small>"]' for d in record["job_details"]]
    lines += [f"    {ids[source]} --> {ids[target]}" for source, target in record["edges"]]
    return "\n".join(lines)


def as_dot(record: dict[str, Any]) -> str:
    lines = [f"digraph {json.dumps(record['workflow_id'])} {{", "    rankdir=LR;", "    node [shape=box];"]
    lines += [f'    {json.dumps(d["id"])} [label={json.dumps(d["id"] + chr(10) + _limits(d))}];'
              for d in record["job_details"]]
    lines += [f"    {json.dumps(source)} -> {json.dumps(target)};" for source, target in record["edges"]]
    return "\n".join([*lines, "}"])


def render(record: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(record, indent=2)
    return {"text": as_text, "mermaid": as_mermaid, "dot": as_dot}[fmt](record)
