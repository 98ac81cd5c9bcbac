"""``bigflow airflow ...``: run a workflow through a local Airflow."""

from __future__ import annotations

from pathlib import Path

import click


def _project():
    from bigflow.api import find_project, require_project

    find_project.cache_clear()  # pyproject.toml may have changed since an earlier lookup in this process
    return require_project()


@click.group("airflow")
def airflow() -> None:
    """Airflow DAGs of the project (bigflow-airflow)."""


@airflow.command("deploy")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose configuration the jobs use.")
def deploy(env: str | None) -> None:
    """Write the project's DAGs into the local Airflow (the local-airflow target, no build needed)."""
    from bigflow_airflow.local import prepare

    local = prepare(_project(), env)
    local.write()
    for mark, items in (("+", local.plan.add), ("~", local.plan.change), ("-", local.plan.remove)):
        for item in items:
            click.echo(f"  {mark} {item}")
    click.echo(f"{len(local.rendered)} DAG(s) in {local.folder}")


@airflow.command("test")
@click.argument("workflow_id", metavar="WORKFLOW")
@click.option("--runtime", "-r", metavar="'YYYY-MM-DD[ HH:MM:SS]'",
              help="The logical date of the test run (UTC; default: now).")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose configuration the jobs use.")
@click.option("--json", "as_json", is_flag=True, help="Airflow's output to stderr; the run's tasks as JSON on stdout.")
def test(workflow_id: str, runtime: str | None, env: str | None, as_json: bool) -> None:
    """Deploy the project to the local Airflow (local-airflow) and run 'airflow dags test' on WORKFLOW."""
    from bigflow_airflow.local import dags_test

    dags_test(_project(), workflow_id, env, runtime, as_json)


@airflow.command("rehearse")
@click.argument("workflow_id", metavar="WORKFLOW")
@click.option("--config", "-c", "env", metavar="ENV", default="rehearsal", show_default=True,
              help="Environment whose built DAG (build/manifest.json) is rehearsed.")
@click.option("--runtime", "-r", metavar="'YYYY-MM-DD[ HH:MM:SS]'", help="The logical date of the run (UTC; default: now).")
@click.option("--from", "first", metavar="DATE", help="With --to: every run the DAG schedules from DATE ...")
@click.option("--to", "last", metavar="DATE", help="... to DATE (inclusive), one after the other.")
@click.option("--airflow", "major", type=click.Choice(["2", "3"]), help="Airflow major version to rehearse on "
              "(its airflow from airflow2_bin / airflow3_bin, else airflow_bin or PATH).")
@click.option("--secrets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="NAME=value lines: the values of the pods' secret env vars (default: the environment's).")
@click.option("--json", "as_json", is_flag=True, help="Print the per-task results as JSON.")
def rehearse(workflow_id: str, env: str, runtime: str | None, first: str | None, last: str | None,
             major: str | None, secrets: Path | None, as_json: bool) -> None:
    """Run WORKFLOW's built DAG file, unchanged, in a local Airflow, each pod as a container of the pushed image."""
    from bigflow_airflow.rehearse import rehearse as run

    run(_project(), workflow_id, env, int(major) if major else None, runtime, first, last, secrets, as_json)
