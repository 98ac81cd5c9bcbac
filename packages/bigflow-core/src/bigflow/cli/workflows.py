"""``bigflow workflows list``: the project's workflows, their schedules and jobs."""

from __future__ import annotations

import click


@click.group("workflows")
def workflows() -> None:
    """List the project's workflows."""


@workflows.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def list_workflows(as_json: bool) -> None:
    """Every workflow of the project: id, schedule and jobs (imports every module of the project)."""
    from bigflow.output import print_json, print_table
    from bigflow.project import require_project

    project = require_project()
    found = project.finder.all()
    records = [
        {"workflow_id": w.workflow_id, "schedule": _schedule(w.schedule_interval),
         "jobs": [j.id for j in w.jobs], "depends_on_past": w.depends_on_past}
        for w in found
    ]
    if as_json:
        print_json(records)
        return
    print_table("workflows", ("Workflow", "Schedule", "Jobs"),
                [(r["workflow_id"], r["schedule"], ", ".join(r["jobs"])) for r in records])


def _schedule(value: object) -> str:
    return "None" if value is None else str(value)
