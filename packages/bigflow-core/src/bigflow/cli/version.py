"""``bigflow version`` and ``bigflow release``: versions from git tags, release tagging."""

from __future__ import annotations

import click


def _root():
    from pathlib import Path

    from bigflow.project import find_project

    project = find_project()
    return project.root if project else Path.cwd()


@click.command("version")
def version() -> None:
    """Print the project version derived from git tags (aliases: project-version, pv)."""
    from bigflow.versioning import project_version

    click.echo(project_version(_root()))


@click.command("release")
@click.option("--major", "part", flag_value="major", help="Bump the major part (2.0.0).")
@click.option("--minor", "part", flag_value="minor", default=True, help="Bump the minor part (1.3.0, default).")
@click.option("--patch", "part", flag_value="patch", help="Bump the patch part (1.2.4).")
@click.option("--push/--no-push", default=True, show_default=True, help="Push the new tag.")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push the tag to.")
def release(part: str, push: bool, remote: str) -> None:
    """Tag HEAD with the next version (annotated tag) on a clean tree, and push it."""
    from bigflow.versioning import release as make_release

    tag = make_release(_root(), part, push=push, remote=remote)
    click.echo(f"Tagged {tag}" + (f" and pushed it to {remote}" if push else ""))
