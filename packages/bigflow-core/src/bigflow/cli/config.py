"""``bigflow config show`` and ``bigflow config schema``: the resolved environment and the declared settings."""

from __future__ import annotations

import click


@click.group("config")
def config() -> None:
    """Show the resolved configuration of an environment, or the schema of [tool.bigflow]."""


@config.command("show")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment (default: the project's default).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def show(env: str | None, as_json: bool) -> None:
    """Print every setting of ENV: value, type, source and the plugin that declared it (secrets masked)."""
    from bigflow import environment
    from bigflow.output import print_json, print_table
    from bigflow.project import require_project

    project = require_project()
    resolved = environment.get(project, env)
    rows = resolved.describe()
    if as_json:
        names, default = environment.environments(project)
        print_json({"env": resolved.name, "environments": names, "default": default, "values": rows})
        return
    print_table(f"configuration of environment {resolved.name!r}", ("Key", "Value", "Type", "Source", "Plugin"),
                [(r["key"], "" if r["value"] is None else str(r["value"]), r["type"], r["source"], r["plugin"])
                 for r in rows])


@config.command("schema")
def schema() -> None:
    """Print a JSON Schema of the [tool.bigflow] table of pyproject.toml (for editors and CI checks)."""
    from bigflow.environment import settings_registry
    from bigflow.output import print_json

    print_json(settings_registry().json_schema())
