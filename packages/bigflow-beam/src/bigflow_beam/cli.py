"""``bigflow beam ...``: Dataflow jobs of the project."""

from __future__ import annotations

import click


@click.group("beam")
def beam() -> None:
    """Apache Beam and Dataflow jobs of the project."""


@beam.command("jobs")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose Dataflow project and region to list.")
@click.option("--all", "everything", is_flag=True, help="Also finished jobs, and jobs of other projects.")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def jobs(env: str | None, everything: bool, as_json: bool) -> None:
    """List the project's Dataflow jobs that are running (labelled with one of its workflows)."""
    from bigflow.api import environment, find_project, require_project
    from bigflow_beam.dataflow import DataflowApi
    from bigflow_beam.options import label_value

    find_project.cache_clear()  # the cwd may have changed since an earlier lookup in this process
    project = require_project()
    config = environment(env, project)
    api = DataflowApi(config, config.name)
    found = api.jobs(active_only=not everything)
    if not everything:
        workflows = {label_value(w) for w in project.finder.all_ids()}
        found = [job for job in found if job.labels.get("workflow_id") in workflows]
    rows = [{
        "name": job.name, "id": job.id, "type": job.type_.name.removeprefix("JOB_TYPE_").lower(),
        "state": job.current_state.name.removeprefix("JOB_STATE_").lower(),
        "created": job.create_time.isoformat() if job.create_time else "",
        "workflow": job.labels.get("workflow_id", ""), "url": api.console_url(job.id),
    } for job in found]
    if as_json:
        from bigflow.api import print_json

        print_json(rows)
        return
    if not rows:
        click.echo(f"no {'' if everything else 'running '}Dataflow jobs of {project.name} in "
                   f"{api.project}/{api.region}")
        return
    from bigflow.api import print_table

    columns = ("name", "id", "type", "state", "created", "workflow")
    print_table(f"Dataflow jobs in {api.project}/{api.region} (environment {config.name})",
                tuple(c.title() for c in columns), [tuple(r[c] for c in columns) for r in rows])
