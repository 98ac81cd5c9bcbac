"""``bigflow migrate``: convert a BigFlow 1.x project to ``[tool.bigflow]`` settings."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("migrate")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--directory", "-d", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The 1.x project (default: the project around the current directory).")
def migrate(dry_run: bool, directory: Path | None) -> None:
    """Convert a BigFlow 1.x project (setup.py, deployment_config.py, resources/requirements.in) into
    [tool.bigflow] settings of pyproject.toml; prints every change. Running it again changes nothing."""
    from bigflow import migrate as migration
    from bigflow.project import find_project

    root = directory
    if root is None:
        find_project.cache_clear()
        project = find_project()
        root = project.root if project else Path.cwd()
    plan = migration.plan(root.resolve())
    if not plan.changes and not plan.retire:
        click.echo(f"Nothing to change: {root / 'pyproject.toml'} already has [tool.bigflow]")
        return
    if dry_run:
        lines = plan.changes + [f"would retire {p.relative_to(plan.root)}" for p in plan.retire]
    else:
        lines = migration.apply(plan)
    for line in lines:
        click.echo(("(dry run) " if dry_run else "") + line)
    for note in plan.notes:
        click.echo(f"note: {note}")
    if not dry_run:
        click.echo("Next: bigflow build requirements && bigflow run --workflow ID")
