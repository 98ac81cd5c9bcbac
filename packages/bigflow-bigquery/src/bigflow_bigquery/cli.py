"""``bigflow bigquery``: run a query in an environment, and manage the project's BigQuery emulator."""

from __future__ import annotations

import click

from bigflow_bigquery.settings import Settings


def _settings(env: str | None) -> Settings:
    from bigflow_bigquery.settings import current_settings

    return current_settings(env)


@click.group("bigquery")
def bigquery() -> None:
    """BigQuery: queries and the local emulator."""


@bigquery.command("query")
@click.argument("sql")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose BigQuery to use (default: the "
              "project's default environment).")
@click.option("--dry-run", is_flag=True, help="Only report the bytes the query would process and its cost.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON.")
@click.option("--max-rows", type=click.IntRange(min=0), default=100, show_default=True,
              help="Print at most this many rows.")
def query(sql: str, env: str | None, dry_run: bool, as_json: bool, max_rows: int) -> None:
    """Run SQL in an environment's BigQuery (the emulator for 'local') and print the rows."""
    from bigflow.api import print_json, print_table
    from bigflow_bigquery.config import DatasetConfig
    from bigflow_bigquery.dataset import DatasetManager

    settings = _settings(env)
    manager = DatasetManager(DatasetConfig(env=None, project_id=None, dataset_name="None").spec(settings.env),
                             settings, "1970-01-01")
    job = manager.execute_sql(sql, what="query", dry_run=dry_run)
    if dry_run:
        click.echo(manager.dry_run_report(job))
        return
    rows = job.result(max_results=max_rows)
    columns = [field.name for field in rows.schema] if rows.schema else []
    records = [dict(row) for row in rows]
    if as_json:
        print_json(records)
        return
    if not columns:
        click.echo("done (no rows)")
        return
    shown = f"{len(records)} row(s)" + (f" of {rows.total_rows}" if rows.total_rows and rows.total_rows > len(records)
                                        else "")
    print_table(shown, columns, [[_cell(record[c]) for c in columns] for record in records])


def _cell(value: object) -> str:
    return "NULL" if value is None else str(value)


@bigquery.group("emulator")
def emulator() -> None:
    """The project's BigQuery emulator (bqemulator on 127.0.0.1, data in .bigflow/bigquery)."""


def _project_emulator(env: str | None):
    from bigflow_bigquery.emulator import ProjectEmulator
    from bigflow_bigquery.engine import emulator_dir

    settings = _settings(env)
    return ProjectEmulator(emulator_dir(settings)), settings


_config_option = click.option("--config", "-c", "env", metavar="ENV",
                              help="Environment whose emulator settings to use (default: the project's default).")


@emulator.command("start")
@_config_option
@click.option("--port", type=click.IntRange(1, 65535), help="REST port (default: bigquery_emulator_port, else a "
              "free one).")
@click.option("--fresh", is_flag=True, help="Delete the emulator's data first.")
def start(env: str | None, port: int | None, fresh: bool) -> None:
    """Start the emulator in the background (runs until 'stop'; 'bigflow run' uses it)."""
    project_emulator, settings = _project_emulator(env)
    running, started = project_emulator.start_detached(port=port or settings.emulator_port, fresh=fresh)
    state = "started" if started else "already running"
    click.echo(f"BigQuery emulator {state} at {running.url} (pid {running.pid}, data in {project_emulator.data_dir})")


@emulator.command("stop")
@_config_option
def stop(env: str | None) -> None:
    """Stop the emulator (its data stays)."""
    project_emulator, _ = _project_emulator(env)
    stopped = project_emulator.stop()
    click.echo(f"BigQuery emulator stopped (pid {stopped.pid})" if stopped else "BigQuery emulator is not running")


@emulator.command("status")
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(env: str | None, as_json: bool) -> None:
    """Whether the emulator runs, where, and where its data is."""
    project_emulator, _ = _project_emulator(env)
    running = project_emulator.running()
    info = {"running": running is not None, "url": running.url if running else None,
            "pid": running.pid if running else None, "data_dir": str(project_emulator.data_dir),
            "has_data": project_emulator.data_dir.is_dir() and any(project_emulator.data_dir.iterdir())}
    if as_json:
        from bigflow.api import print_json

        print_json(info)
    elif running:
        click.echo(f"running at {running.url} (pid {running.pid}), data in {project_emulator.data_dir}")
    else:
        click.echo(f"not running; data in {project_emulator.data_dir}" + ("" if info["has_data"] else " (empty)"))


@emulator.command("reset")
@_config_option
def reset(env: str | None) -> None:
    """Stop the emulator and delete its data."""
    project_emulator, _ = _project_emulator(env)
    project_emulator.stop()
    project_emulator.reset()
    click.echo(f"BigQuery emulator data deleted ({project_emulator.data_dir})")
