"""``bigflow logs``: Cloud Logging links and filters for the project's deployed jobs."""

from __future__ import annotations

import click


@click.command("logs")
@click.option("--workflow", "-w", "workflow_id", metavar="ID", help="Only this workflow (default: all of them).")
@click.option("--job", "-j", "job_ref", metavar="[WORKFLOW_ID.]JOB_ID", help="Only this job.")
@click.option("--run-id", metavar="ID", help="Only this run (the run id 'bigflow run' and the pods log).")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose project and region to use.")
@click.option("--since", default="1d", show_default=True, metavar="DURATION", help="Time range: 30m, 6h, 1d, 2w.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def logs(workflow_id: str | None, job_ref: str | None, run_id: str | None, env: str | None, since: str,
         as_json: bool) -> None:
    """Print Logs Explorer links, filters and gcloud commands for the project's jobs on Composer/GKE, and on
    Dataflow and Dataproc for workflows with jobs that run there."""
    from bigflow import environment, ids
    from bigflow.cloud_logging import duration, queries, technologies
    from bigflow.errors import UsageError
    from bigflow.output import warn
    from bigflow.project import find_project, require_project

    duration(since)  # a bad --since fails before any project lookup
    job_id = None
    if job_ref:
        if "." in job_ref:
            head, tail = ids.split_job(job_ref)  # workflow ids may hold dots, job ids do not
            if workflow_id and workflow_id != head:
                raise UsageError(f"--job {job_ref!r} names workflow {head!r}, but --workflow is {workflow_id!r}")
            workflow_id, job_id = head, tail
        elif not workflow_id:
            raise UsageError(f"--job {job_ref!r} needs its workflow: --job WORKFLOW_ID.JOB_ID or --workflow ID")
        else:
            job_id = job_ref
    find_project.cache_clear()
    project = require_project()
    config = environment.get(project, env)
    if workflow_id:
        workflow = project.finder.find(workflow_id)  # a one-line error naming the nearest id
        jobs = [workflow.find_job(job_id)] if job_id else workflow.jobs
        workflow_ids = [workflow_id]
    else:
        workflow_ids = project.finder.all_ids()
        jobs = [job for w in workflow_ids for job in project.finder.find(w).jobs]
    gcp_project = config.get("gcp_project_id")
    region = config.get("region")
    found = queries(workflow_ids, job_id, run_id, config.name, region, technologies(jobs))
    if as_json:
        from bigflow.output import print_json

        print_json({
            "env": config.name, "gcp_project_id": gcp_project, "workflows": workflow_ids, "job_id": job_id,
            "run_id": run_id, "since": since,
            "queries": [{"title": q.title, "filter": q.filter, "url": q.url(gcp_project, since),
                         "gcloud": q.gcloud(gcp_project, since)} for q in found],
        })
        return
    if not gcp_project:
        warn(f"environment {config.name!r} has no gcp_project_id: the links open the console's current project "
             "(use --config ENV of a deployed environment)")
    what = f"job {workflow_ids[0]}.{job_id}" if job_id else (
        f"workflow {workflow_ids[0]}" if workflow_id else f"{len(workflow_ids)} workflow(s)")
    click.echo(f"Logs of {what}, environment {config.name}"
               + (f", project {gcp_project}" if gcp_project else "") + f", last {since}:")
    for query in found:
        click.echo("")
        click.echo(query.title)
        click.echo(f"  {query.url(gcp_project, since)}")
        click.echo(f"  filter: {query.filter}")
        click.echo(f"  {query.gcloud(gcp_project, since)}")
