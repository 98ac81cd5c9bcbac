"""``bigflow run``: run a workflow or one job locally, honouring the graph, retries and timeouts."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from bigflow.errors import BigflowError, UnknownNameError, UsageError
from bigflow.output import print_json, print_table

LOCAL_MAX_RETRY_PAUSE_SEC = 1.0  # a bug fails fast locally; Airflow keeps each job's retry_pause_sec


def parse_runtime(text: str | None) -> str | datetime:
    """``--runtime``, checked: the text as given (its 1.x form becomes ``runtime_str``), or now when absent."""
    from bigflow import runtimes
    from bigflow.errors import InvalidValueError

    try:
        moment = runtimes.parse(text, "--runtime")
    except InvalidValueError as error:
        raise UsageError(str(error)) from None
    return moment if text is None else text


def parse_time(text: str, option: str) -> datetime:
    from bigflow import runtimes
    from bigflow.errors import InvalidValueError

    try:
        return runtimes.parse(text, option)
    except InvalidValueError as error:
        raise UsageError(str(error)) from None


@click.command("run")
@click.option("--workflow", "-w", "workflow_id", metavar="ID", help="Run every job of this workflow.")
@click.option("--job", "-j", "job_ref", metavar="WORKFLOW_ID.JOB_ID", help="Run one job of a workflow.")
@click.option("--runtime", "-r", metavar="'YYYY-MM-DD[ HH:MM:SS]'", help="The run's logical time (default: now).")
@click.option("--from", "start", metavar="START", help="Backfill: run every runtime of the workflow's schedule "
              "from START to --to END (both included), in order.")
@click.option("--to", "end", metavar="END", help="The last runtime of a backfill (with --from).")
@click.option("--continue-on-failure", is_flag=True,
              help="Backfill: go on after a failed runtime (not with depends_on_past).")
@click.option("--dry-run", is_flag=True, help="Print what would run, in order, with the runtime(s), environment "
              "and settings; run nothing.")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose configuration to use.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many independent jobs (in a backfill: runtimes, where the workflow allows) at once.")
@click.option("--log-format", type=click.Choice(["auto", "text", "json"]), default="auto", show_default=True,
              help="'auto': text on a terminal; JSON when piped in a Kubernetes pod or with BIGFLOW_LOG_FORMAT=json.")
@click.option("--retries/--no-retries", default=True, show_default=True,
              help="Retry failed jobs as their retry_count says; --no-retries when Airflow retries instead.")
@click.option("--retry-pause", type=click.FloatRange(min=0), metavar="SECONDS",
              help=f"Pause between attempts of every job (default: the job's retry_pause_sec, at most "
                   f"{LOCAL_MAX_RETRY_PAUSE_SEC:g} s locally).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--summary-file", type=click.Path(dir_okay=False), hidden=True,
              help="Write the JSON summary to this file instead of printing it (a runtime of a backfill).")
@click.option("--project-package", hidden=True, help="Accepted for BigFlow 1.x compatibility; ignored.")
def run(workflow_id: str | None, job_ref: str | None, runtime: str | None, start: str | None, end: str | None,
        continue_on_failure: bool, dry_run: bool, env: str | None, jobs: int, log_format: str, retries: bool,
        retry_pause: float | None, as_json: bool, summary_file: str | None, project_package: str | None) -> None:
    """Run a workflow (--workflow) or one job (--job) locally, for one runtime or a range (--from/--to)."""
    from bigflow import environment, ids, log
    from bigflow.configuration import declares_environment
    from bigflow.executor import RetryPolicy, run_workflow
    from bigflow.plugins.requirements import check_required
    from bigflow.project import require_project

    if bool(workflow_id) == bool(job_ref):
        raise UsageError("give exactly one of --workflow ID or --job WORKFLOW_ID.JOB_ID")
    if (start is None) != (end is None):
        raise UsageError("give --from START and --to END together")
    if start is not None and runtime is not None:
        raise UsageError("give --runtime or --from/--to, not both")
    only_job = None
    if job_ref:
        workflow_id, only_job = ids.split_job(job_ref)
    assert workflow_id is not None
    when = parse_runtime(runtime)
    span = (parse_time(start, "--from"), parse_time(end, "--to")) if start and end else None
    if span and span[0] > span[1]:
        raise UsageError(f"--from {start!r} is after --to {end!r}")
    project = require_project()
    if not env:  # an unknown id is refused before any set-up (with --config, a wrong environment is named first)
        project.finder.locate(workflow_id)
    check_required(project)
    try:
        config, unknown = environment.get(project, env), None
    except UnknownNameError as error:  # 1.x: --config only set bf_env; Configs in workflow modules may declare it
        if not env:
            raise
        config, unknown = environment.get(project, env, undeclared_ok=True), error
    debug = bool(click.get_current_context().find_root().params.get("debug"))
    log.configure(log_format, logging.DEBUG if debug else logging.INFO, mask=config.mask)
    retry = RetryPolicy(enabled=retries, pause=retry_pause, hint="; --no-retries to stop",
                        max_pause=LOCAL_MAX_RETRY_PAUSE_SEC if retry_pause is None else None)
    with config.activated():
        try:
            workflow = project.finder.find(workflow_id)
        except BigflowError:
            if unknown is not None:  # the environment is the first thing wrong
                raise unknown from None
            raise
        if unknown is not None and not declares_environment(config.name):
            raise unknown
        if only_job is not None:
            workflow.find_job(only_job)  # a one-line error naming the nearest job id
        moments = _backfill_runtimes(workflow, span) if span else None
        if dry_run:
            _print_plan(workflow, config, moments or [when], only_job, retry, as_json)
            return
        if moments is not None:
            _backfill(workflow, config, moments, span, debug, continue_on_failure, as_json)
            return
        report = run_workflow(workflow, runtime=when, env=config.name, config=config, jobs=jobs,
                              only_job=only_job, hooks=_PluginHooks(), retry=retry, isolate=True)
    summary = _report_json(report, config.mask)
    if summary_file:  # a runtime of a backfill: the backfill prints the summary
        Path(summary_file).write_text(json.dumps(summary))
    elif as_json:
        print_json(summary)
    else:
        _print_report(report)
    if not report.ok and summary_file:
        click.get_current_context().exit(report.failure().exit_code)  # the backfill reports the failure
    if not report.ok:
        failure = report.failure()
        first = next(result for result in report.results if result.state != "success")
        hint = "; --debug shows the traceback" if first.traceback and not debug else ""
        raise BigflowError(log.mask(str(failure)) + hint, exit_code=failure.exit_code)


def _backfill_runtimes(workflow, span: tuple[datetime, datetime]) -> list[datetime]:
    from bigflow import runtimes
    from bigflow.schedule_ticks import ticks

    moments = ticks(workflow.schedule_interval, *span, workflow.workflow_id)
    if not moments:
        raise UsageError(f"no runtime of workflow {workflow.workflow_id!r} (schedule {workflow.schedule_interval}) "
                         f"falls between {runtimes.format(span[0])} and {runtimes.format(span[1])}")
    return moments


def _backfill(workflow, config, moments: list[datetime], span, debug: bool, continue_on_failure: bool,
              as_json: bool) -> None:
    """Run every runtime as a child ``bigflow run`` (see ``bigflow.backfill``) and report per runtime."""
    from bigflow import runtimes
    from bigflow.backfill import SUCCESS, Backfill

    params = click.get_current_context().params
    jobs = params["jobs"]
    parallel = 1 if workflow.depends_on_past else min(jobs, workflow.max_active_runs)
    command = [sys.executable, "-m", "bigflow", *(["--debug"] if debug else []), "run",
               *(["--job", params["job_ref"]] if params["job_ref"] else ["--workflow", workflow.workflow_id]),
               "--config", config.name, "--jobs", str(max(1, jobs // parallel)), "--log-format", params["log_format"],
               "--retries" if params["retries"] else "--no-retries",
               *(["--retry-pause", str(params["retry_pause"])] if params["retry_pause"] is not None else [])]
    backfill = Backfill(command, moments, parallel=parallel, continue_on_failure=continue_on_failure,
                        depends_on_past=workflow.depends_on_past)
    interrupted = backfill.run()
    failed = [run for run in backfill.runs if run.state != SUCCESS]
    if as_json:
        print_json({"workflow_id": workflow.workflow_id, "env": config.name, "from": runtimes.format(span[0]),
                    "to": runtimes.format(span[1]), "ok": not failed and not interrupted, "interrupted": interrupted,
                    "runtimes": [run.as_json() for run in backfill.runs]})
    else:
        rows = [(runtimes.format(run.runtime), run.state, _jobs_done(run.summary), f"{run.duration:.2f}s",
                 (run.summary or {}).get("run_id", "")) for run in backfill.runs]
        _table(f"{workflow.workflow_id} backfill {runtimes.format(span[0])} .. {runtimes.format(span[1])} "
               f"({len(moments)} runtime(s), env {config.name})", ("Runtime", "State", "Jobs", "Duration", "Run"), rows)
    if failed or interrupted:
        first = next((run for run in failed if run.state != "skipped"), failed[0] if failed else None)
        detail = ""
        if first is not None and first.summary:
            errors = [job["error"] for job in first.summary["jobs"] if job["error"]]
            detail = f": {errors[0]}" if errors else ""
        where = f"; first: {runtimes.format(first.runtime)} {first.state}{detail}" if first else ""
        raise BigflowError(f"{len(failed)} of {len(moments)} runtime(s) of {workflow.workflow_id!r} did not "
                           f"succeed{where}", exit_code=130 if interrupted else 1)


def _jobs_done(summary: dict | None) -> str:
    if not summary:
        return ""
    done = sum(job["state"] == "success" for job in summary["jobs"])
    return f"{done}/{len(summary['jobs'])}"


def _report_json(report, mask) -> dict:
    """The run summary of ``--json`` (errors masked)."""
    from bigflow import runtimes

    return {"workflow_id": report.workflow_id, "run_id": report.run_id, "runtime": runtimes.format(report.runtime),
            "env": report.env, "ok": report.ok, "interrupted": report.interrupted,
            "duration": round(report.duration, 3),
            "jobs": [{"job_id": r.job_id, "state": r.state, "attempts": r.attempts, "duration": round(r.duration, 3),
                      "error": mask(r.error_line) or None} for r in report.results]}


def _print_plan(workflow, config, moments: list, only_job: str | None, retry, as_json: bool) -> None:
    """``--dry-run``: the runtimes, the jobs in the order they would run, the environment's settings."""
    from bigflow import runtimes
    from bigflow.workflow import job_settings

    job_ids = [only_job] if only_job else workflow.job_ids
    jobs = []
    for job_id in job_ids:
        settings = job_settings(workflow.find_job(job_id))
        attempts = settings.retry_count + 1 if retry.enabled else 1
        jobs.append({"job_id": job_id, "after": [u for u in workflow.upstream(job_id) if u in job_ids],
                     "attempts": attempts, "retry_pause_sec": retry.pause_of(settings.retry_pause_sec),
                     "execution_timeout_sec": settings.execution_timeout_sec})
    moments = [runtimes.parse(moment) if isinstance(moment, str) else moment for moment in moments]
    settings_rows = [{"key": row["key"], "value": row["value"], "source": row["source"]}
                     for row in config.describe()]
    plan = {"dry_run": True, "workflow_id": workflow.workflow_id, "env": config.name,
            "schedule": str(workflow.schedule_interval), "depends_on_past": workflow.depends_on_past,
            "runtimes": [runtimes.format(moment) for moment in moments], "jobs": jobs, "settings": settings_rows}
    if as_json:
        print_json(plan)
        return
    shown = ", ".join(plan["runtimes"][:5]) + (f", ... ({len(moments)} in all)" if len(moments) > 5 else "")
    print(f"Dry run of workflow {workflow.workflow_id} (nothing runs): environment {config.name}, "
          f"runtime(s) {shown}")
    _table("Jobs, in the order they would run", ("Job", "After", "Attempts", "Retry pause", "Timeout"),
           [(job["job_id"], ", ".join(job["after"]), str(job["attempts"]), f"{job['retry_pause_sec']:g}s",
             f"{job['execution_timeout_sec']:g}s") for job in jobs])
    _table(f"Settings of environment {config.name}", ("Key", "Value", "Source"),
           [(row["key"], str(row["value"]), row["source"]) for row in settings_rows])


def _table(title: str, columns: tuple[str, ...], rows: list) -> None:
    """A table with its title (rich shows the title itself on a terminal)."""
    if not sys.stdout.isatty():
        print(title)
    print_table(title, columns, rows)


class _PluginHooks:
    """Lifecycle calls of the executor, forwarded to every plugin (a failing plugin is reported, not fatal)."""

    def __getattr__(self, hook_name: str):
        from bigflow import plugins

        def call(*args, **kwargs):
            plugins.host().notify(hook_name, **kwargs)

        return call


def _print_report(report) -> None:
    from bigflow import runtimes

    rows = [(r.job_id, r.state, str(r.attempts), f"{r.duration:.2f}s") for r in report.results]
    _table(f"{report.workflow_id} run {report.run_id} ({runtimes.format(report.runtime)}, env {report.env})",
           ("Job", "State", "Attempts", "Duration"), rows)
