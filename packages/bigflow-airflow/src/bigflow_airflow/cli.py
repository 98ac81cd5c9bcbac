"""``bigflow airflow ...``: run a workflow through a local Airflow."""

from __future__ import annotations

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
def test(workflow_id: str, runtime: str | None, env: str | None) -> None:
    """Deploy the project to the local Airflow (local-airflow) and run 'airflow dags test' on WORKFLOW."""
    from bigflow_airflow.local import dags_test

    dags_test(_project(), workflow_id, env, runtime)
