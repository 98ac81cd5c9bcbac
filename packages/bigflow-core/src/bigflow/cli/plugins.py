"""``bigflow plugins``: list installed plugins, check them, scaffold a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bigflow.errors import PluginError


@click.group()
def plugins() -> None:
    """List, check and create bigflow plugins."""


def describe(show_all: bool = False) -> list[dict[str, Any]]:
    """One record per plugin distribution: status, hooks, what it provides (loads plugins, calls no engine)."""
    from bigflow.cli.app import cli_host
    from bigflow.plugins.discovery import KINDS
    from bigflow.plugins.manager import OK

    host = cli_host().load()
    registered: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        for name, item in host.contributions(kind).items():
            for owner in item.plugin.split(", "):
                registered.setdefault(owner, {}).setdefault(kind, []).append(name)
    records = []
    for plugin in host.plugins:
        if plugin.info.builtin and not show_all:
            continue
        provides = registered.get(plugin.name, {}) if plugin.status == OK else plugin.info.provides
        records.append({
            "name": plugin.name,
            "version": plugin.info.version,
            "status": plugin.status_text,
            "builtin": plugin.info.builtin,
            "api": plugin.info.api,
            "hooks": host.hooks_of(plugin),
            "provides": {kind: sorted(provides[kind]) for kind in KINDS if provides.get(kind)},
            "modules": dict(plugin.info.modules),
        })
    return records


@plugins.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include core's builtin plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def list_plugins(show_all: bool, as_json: bool) -> None:
    """List installed plugins: version, status, hooks and what each provides."""
    from bigflow.cli.output import print_json, print_table
    from bigflow.plugins.discovery import KINDS

    records = describe(show_all)
    if as_json:
        print_json(records)
        return
    rows = []
    for record in records:
        provides = "; ".join(f"{KINDS[k]}: {', '.join(v)}" for k, v in record["provides"].items())
        rows.append((record["name"], record["version"], record["status"], ", ".join(record["hooks"]), provides))
    if not rows:
        click.echo("No plugins installed. Try: pip install bigflow-bigquery bigflow-beam", err=True)
        return
    print_table("bigflow plugins", ("Name", "Version", "Status", "Hooks", "Provides"), rows)


@plugins.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (the exit code is the same).")
def check_plugins(as_json: bool) -> None:
    """Fail (exit 3) when a plugin is broken, incompatible or conflicting, or a required one is missing."""
    from bigflow import plugins as plugin_system
    from bigflow.plugins.manager import DISABLED, OK
    from bigflow.plugins.requirements import check_required

    records = describe(show_all=True)
    problems = []
    try:
        check_required()
    except PluginError as error:
        if not as_json:
            raise
        problems.append(str(error))
    host = plugin_system.host()
    problems += [f"{p.name}: {p.status_text}" for p in host.plugins if p.status not in (OK, DISABLED)]
    problems += host.conflicts
    if as_json:
        from bigflow.cli.output import print_json

        print_json({"ok": not problems, "problems": problems, "plugins": records})
    if problems:
        raise PluginError(f"{len(problems)} plugin problem(s): " + "; ".join(problems))
    if not as_json:
        click.echo(f"{len(records)} plugin distribution(s) OK")


@plugins.command("new")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the package (default: ./NAME).")
def new_plugin(name: str, directory: Path | None) -> None:
    """Scaffold a third-party plugin package NAME (e.g. bigflow-acme) that installs and lists with no edits."""
    from bigflow.scaffold import render_plugin

    target = render_plugin(name, directory or Path(name))
    click.echo(f"Created plugin package {name!r} in {target}")
    click.echo(f"Next: pip install -e {target} && bigflow plugins list")
