"""``bigflow run``: run a workflow or one job locally, honouring the graph, retries and timeouts."""

from __future__ import annotations

import logging
import sys
from datetime import datetime

import click

from bigflow.errors import BigflowError, UsageError


def parse_runtime(text: str | None) -> str | datetime:
    """``--runtime``, checked: the text as given (its 1.x form becomes ``runtime_str``), or now when absent."""
    from bigflow import runtimes
    from bigflow.errors import InvalidValueError

    try:
        moment = runtimes.parse(text, "--runtime")
    except InvalidValueError as error:
        raise UsageError(str(error)) from None
    return moment if text is None else text


@click.command("run")
@click.option("--workflow", "-w", "workflow_id", metavar="ID", help="Run every job of this workflow.")
@click.option("--job", "-j", "job_ref", metavar="WORKFLOW_ID.JOB_ID", help="Run one job of a workflow.")
@click.option("--runtime", "-r", metavar="'YYYY-MM-DD[ HH:MM:SS]'", help="The run's logical time (default: now).")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose configuration to use.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many independent jobs may run at once.")
@click.option("--log-format", type=click.Choice(["auto", "text", "json"]), default="auto", show_default=True,
              help="'auto': text on a terminal; JSON when piped in a Kubernetes pod or with BIGFLOW_LOG_FORMAT=json.")
@click.option("--retries/--no-retries", default=True, show_default=True,
              help="Retry failed jobs as their retry_count says; --no-retries when Airflow retries instead.")
@click.option("--project-package", hidden=True, help="Accepted for BigFlow 1.x compatibility; ignored.")
def run(workflow_id: str | None, job_ref: str | None, runtime: str | None, env: str | None, jobs: int,
        log_format: str, retries: bool, project_package: str | None) -> None:
    """Run a workflow (--workflow) or one job (--job) locally."""
    from bigflow import environment, ids, log
    from bigflow.executor import run_workflow
    from bigflow.plugins.requirements import check_required
    from bigflow.project import require_project

    if bool(workflow_id) == bool(job_ref):
        raise UsageError("give exactly one of --workflow ID or --job WORKFLOW_ID.JOB_ID")
    only_job = None
    if job_ref:
        workflow_id, only_job = ids.split_job(job_ref)
    assert workflow_id is not None
    when = parse_runtime(runtime)
    project = require_project()
    check_required(project)
    config = environment.get(project, env)
    debug = bool(click.get_current_context().find_root().params.get("debug"))
    log.configure(log_format, logging.DEBUG if debug else logging.INFO, mask=config.mask)
    with config.activated():
        workflow = project.finder.find(workflow_id)
        if only_job is not None:
            workflow.find_job(only_job)  # a one-line error naming the nearest job id
        report = run_workflow(workflow, runtime=when, env=config.name, config=config, jobs=jobs,
                              only_job=only_job, hooks=_PluginHooks(), retries=retries)
    _print_report(report)
    if not report.ok:
        failure = report.failure()
        raise BigflowError(log.mask(str(failure)), exit_code=failure.exit_code)


class _PluginHooks:
    """Lifecycle calls of the executor, forwarded to every plugin (a failing plugin is reported, not fatal)."""

    def __getattr__(self, hook_name: str):
        from bigflow import plugins

        def call(*args, **kwargs):
            plugins.host().notify(hook_name, **kwargs)

        return call


def _print_report(report) -> None:
    from bigflow import runtimes
    from bigflow.cli.output import print_table

    rows = [(r.job_id, r.state, str(r.attempts), f"{r.duration:.2f}s") for r in report.results]
    title = f"{report.workflow_id} run {report.run_id} ({runtimes.format(report.runtime)}, env {report.env})"
    if not sys.stdout.isatty():
        print(title)
    print_table(title, ("Job", "State", "Attempts", "Duration"), rows)
