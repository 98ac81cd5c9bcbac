"""``bigflow workflows list`` and ``bigflow workflows show``: the project's workflows and their job graphs."""

from __future__ import annotations

import click

from bigflow.workflow_views import FORMATS


@click.group("workflows")
def workflows() -> None:
    """List the project's workflows, or show one's job graph."""


@workflows.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (with edges and job types).")
def list_workflows(as_json: bool) -> None:
    """Every workflow of the project: id, schedule and jobs. A module that fails to import is listed as
    broken (file and line), the others still are; the exit code is then 1."""
    from bigflow.errors import BigflowError
    from bigflow.output import print_json, print_table
    from bigflow.project import require_project
    from bigflow.workflow_views import describe

    finder = require_project().finder
    records = finder.listing(describe)
    broken = finder.broken()
    if as_json:
        print_json(records)
    else:
        rows = [(r["workflow_id"], r.get("schedule", "?"), ", ".join(r.get("jobs", ())) or f"broken: {r['broken']}")
                for r in records]
        print_table("workflows", ("Workflow", "Schedule", "Jobs"), rows)
    if broken:
        extra = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise BigflowError(f"{broken[0]}{extra}")


def complete_workflow_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion: the project's workflow ids (from the index: no engine is imported)."""
    from bigflow.errors import BigflowError
    from bigflow.project import find_project

    try:
        project = find_project()
        return [i for i in project.finder.all_ids() if i.startswith(incomplete)] if project else []
    except BigflowError:
        return []


@workflows.command("show")
@click.argument("workflow_id", metavar="ID", shell_complete=complete_workflow_ids)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="A text tree, a Mermaid flowchart, a Graphviz dot graph or JSON (edges, job types, retries, "
                   "timeouts).")
def show(workflow_id: str, fmt: str) -> None:
    """The job graph of workflow ID (imports only the module that defines it)."""
    from bigflow.project import require_project
    from bigflow.workflow_views import describe, render

    click.echo(render(describe(require_project().finder.find(workflow_id)), fmt))
