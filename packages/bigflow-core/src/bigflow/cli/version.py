"""``bigflow version`` and ``bigflow release``: versions from git tags, release tagging."""

from __future__ import annotations

import click

_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def _root():
    from pathlib import Path

    from bigflow.project import find_project

    project = find_project()
    return project.root if project else Path.cwd()


@click.command("version")
@_json
def version(as_json: bool) -> None:
    """Print the project version derived from git tags (aliases: project-version, pv)."""
    from bigflow.versioning import BROKEN_VERSION, NoGitHistoryError, project_version

    try:
        value = project_version(_root())
    except NoGitHistoryError as error:  # 1.x printed 0+BROKEN and succeeded; CI scripts rely on it
        click.echo(f"bigflow: warning: {error}; the version is {BROKEN_VERSION}", err=True)
        value = BROKEN_VERSION
    if as_json:
        from bigflow.output import print_json

        print_json({"version": value})
    else:
        click.echo(value)


@click.command("release")
@click.option("--major", "part", flag_value="major", help="Bump the major part (2.0.0).")
@click.option("--minor", "part", flag_value="minor", default=True, help="Bump the minor part (1.3.0, default).")
@click.option("--patch", "part", flag_value="patch", help="Bump the patch part (1.2.4).")
@click.option("--push/--no-push", default=None,
              help="Push the new tag (default: when the remote exists; without one the tag stays local).")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push the tag to.")
@_json
def release(part: str, push: bool | None, remote: str, as_json: bool) -> None:
    """Tag HEAD with the next version (annotated tag) on a clean tree, and push it when the repository has
    the remote."""
    from bigflow.versioning import TAG, will_push
    from bigflow.versioning import release as make_release

    root = _root()
    pushing = will_push(root, push, remote)
    tag = make_release(root, part, push=pushing, remote=remote)
    if as_json:
        from bigflow.output import print_json

        print_json({"tag": tag, "version": TAG.match(tag)["version"],  # type: ignore[index]
                    "pushed": pushing, "remote": remote if pushing else None})
    elif pushing:
        click.echo(f"Tagged {tag} and pushed it to {remote}")
    elif push is False:
        click.echo(f"Tagged {tag} (not pushed: --no-push)")
    else:
        click.echo(f"Tagged {tag} (not pushed: this repository has no git remote {remote!r}; "
                   f"push it later with 'git push {remote} {tag}')")
