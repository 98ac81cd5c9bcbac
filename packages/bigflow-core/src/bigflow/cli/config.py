"""``bigflow config show``: the resolved configuration of an environment, with sources, secrets masked."""

from __future__ import annotations

import click


@click.group("config")
def config() -> None:
    """Show the resolved configuration of an environment."""


@config.command("show")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment (default: the project's default).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def show(env: str | None, as_json: bool) -> None:
    """Print every configuration value of ENV and where it came from (secrets masked)."""
    from bigflow.environment import environments, resolve
    from bigflow.output import print_json, print_table
    from bigflow.project import require_project

    project = require_project()
    resolved = resolve(project, env)
    rows = resolved.describe()
    if as_json:
        names, default = environments(project)
        print_json({"env": resolved.env, "environments": names, "default": default, "values": rows})
        return
    print_table(f"configuration of environment {resolved.env!r}", ("Key", "Value", "Source"),
                [(r["key"], str(r["value"]), r["source"]) for r in rows])
