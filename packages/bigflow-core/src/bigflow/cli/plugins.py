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
    """One record per plugin distribution, from metadata only: no plugin is imported."""
    from bigflow.cli.app import cli_host
    from bigflow.plugins.kinds import KINDS
    from bigflow.plugins.manager import NOT_LOADED

    records = []
    for plugin in cli_host().plugins:
        if plugin.info.builtin and not show_all:
            continue
        provides = plugin.info.provides
        records.append({
            "name": plugin.name,
            "version": plugin.info.version,
            "status": "installed" if plugin.status == NOT_LOADED else plugin.status_text,
            "builtin": plugin.info.builtin,
            "api": plugin.info.api,
            "provides": {kind: sorted(provides[kind]) for kind in KINDS if provides.get(kind)},
            "modules": dict(plugin.info.modules),
        })
    return records


def _provides_text(provides: dict[str, list[str]]) -> str:
    from bigflow.plugins.kinds import KINDS

    return "; ".join(f"{KINDS[k].plural}: {', '.join(v)}" for k, v in provides.items())


@plugins.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include core's builtin plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def list_plugins(show_all: bool, as_json: bool) -> None:
    """List installed plugins from their metadata (nothing is imported): version, status, what each provides.

    'bigflow plugins check' loads them and checks what they really register.
    """
    from bigflow.cli.app import cli_host
    from bigflow.output import print_json, print_table, warn
    from bigflow.plugins.checks import unknown_selections

    for line in unknown_selections(cli_host()):
        warn(line)
    records = describe(show_all)
    if as_json:
        print_json(records)
        return
    rows = [(r["name"], r["version"], r["status"], _provides_text(r["provides"])) for r in records]
    if not rows:
        click.echo("No plugins installed. Try: pip install bigflow-bigquery bigflow-beam", err=True)
        return
    print_table("bigflow plugins", ("Name", "Version", "Status", "Provides"), rows)


def inspect_loaded(as_json: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """Load every plugin (imports have a time limit) and check it: records with hooks, and the problems (a missing
    required plugin raises, unless ``as_json``: then it is one of the problems)."""
    from bigflow.cli.app import cli_host
    from bigflow.plugins.checks import provides_problems, registered_by
    from bigflow.plugins.kinds import KINDS
    from bigflow.plugins.manager import DISABLED, OK
    from bigflow.plugins.requirements import check_required

    host = cli_host().load()
    registered = registered_by(host)
    problems = []
    try:
        check_required()
    except PluginError as error:
        if not as_json:
            raise
        problems.append(str(error))
    problems += [f"{p.name}: {p.status_text}" for p in host.plugins if p.status not in (OK, DISABLED)]
    problems += host.conflicts
    records = []
    for plugin in host.plugins:
        mine = registered.get(plugin.name, {})
        problems += provides_problems(plugin, mine)
        records.append({
            "name": plugin.name,
            "version": plugin.info.version,
            "status": plugin.status_text,
            "builtin": plugin.info.builtin,
            "hooks": host.hooks_of(plugin),
            "registers": {kind: sorted(mine[kind]) for kind in KINDS if mine.get(kind)},
            "hook_errors": list(plugin.hook_errors),
        })
    return records, problems


@plugins.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the loaded plugins and the problems as JSON.")
def check_plugins(as_json: bool) -> None:
    """Load every plugin and fail (exit 3) on a broken, incompatible or conflicting one, a missing required
    one, or a bigflow.provides entry that does not match what the plugin registers (exit 2 when
    BIGFLOW_LOAD_PLUGINS or BIGFLOW_DISABLE_PLUGINS names a plugin that is not installed)."""
    from bigflow.cli.app import cli_host
    from bigflow.errors import UnknownNameError
    from bigflow.output import print_json, print_table
    from bigflow.plugins.checks import unknown_selections

    unknown = unknown_selections(cli_host())
    if unknown:
        raise UnknownNameError(unknown[0])
    records, problems = inspect_loaded(as_json)
    if as_json:
        print_json({"ok": not problems, "problems": problems, "plugins": records})
    else:
        rows = [(r["name"], r["version"], r["status"], ", ".join(r["hooks"]), _provides_text(r["registers"]))
                for r in records]
        print_table("bigflow plugins (loaded)", ("Name", "Version", "Status", "Hooks", "Registers"), rows)
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
