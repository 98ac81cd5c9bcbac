"""``bigflow build``, ``bigflow plan`` and ``bigflow deploy``: artifact builders and deploy targets from plugins.

Builders and targets are contributions of plugins (core's own: ``requirements``, ``package``, ``image``
builders and the ``image`` target). Each builder's artifacts go into ``build/manifest.json`` as soon as it
succeeds, so a failing builder leaves what was built before it, and its own previous artifacts, intact.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click

from bigflow.errors import BigflowError, UsageError


def _project():
    from bigflow.plugins.requirements import check_required
    from bigflow.project import find_project, require_project

    find_project.cache_clear()  # the cwd may have changed since an earlier lookup in this process
    project = require_project()
    check_required(project)
    return project


def _selected(kind: str, names: tuple[str, ...], first: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(name, object) of the named contributions, or of all of them in their run order."""
    from bigflow import plugins
    from bigflow.builders import ordered

    host = plugins.host()
    if names:
        return [(name, host.contribution(kind, name)) for name in dict.fromkeys(names)]
    available = host.contributions(kind)
    return [(name, host.contribution(kind, name)) for name in ordered(available, first)]


def _warn(message: str) -> None:
    from bigflow.plugins.manager import warn

    warn(message)


def _as_artifacts(name: str, root: Path, produced: Any) -> list[Any]:
    """A builder's result as Artifact records (plain paths are accepted, as files of kind NAME)."""
    from bigflow.artifacts import Artifact

    artifacts = []
    for item in produced or []:
        if isinstance(item, Artifact):
            artifacts.append(item)
        elif isinstance(item, (str, Path)):
            path = Path(item) if Path(item).is_absolute() else root / item
            artifacts.append(Artifact.for_file(name, root, path))
        else:
            raise BigflowError(f"artifact builder {name!r} returned {item!r}, not an Artifact or a path")
    return artifacts


def _options(extra: tuple[str, ...], **options: Any) -> dict[str, Any]:
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option expects KEY=VALUE, got {item!r}")
        options[key.replace("-", "_")] = value
    return options


@click.command("build")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose settings to use (docker_repository, ...).")
@click.option("--skip-tests", is_flag=True, help="package: do not run the project's tests.")
@click.option("--base-image", metavar="IMAGE", help="image: base image (default: [tool.bigflow] base-image, "
              "else python:X.Y-slim of this Python).")
@click.option("--dockerfile", type=click.Path(dir_okay=False, path_type=Path),
              help="image: Dockerfile to use (default: ./Dockerfile, else core's).")
@click.option("--cache-from", multiple=True, metavar="IMAGE", help="image: an image to reuse layers from (repeatable).")
@click.option("--no-cache", is_flag=True, help="image: build every layer anew.")
@click.option("--export-tar", is_flag=True, help="image: also save the image to build/image-<tag>.tar.")
@click.option("--network", metavar="MODE", help="image: network of RUN steps (e.g. 'host').")
@click.option("--workflow", "-w", "workflow_id", metavar="ID", help="dags: only this workflow.")
@click.option("--start-time", "-t", metavar="'YYYY-MM-DD[ HH:MM:SS]'", help="dags: start date of the DAGs.")
@click.option("--option", "-o", "extra", multiple=True, metavar="KEY=VALUE",
              help="An option for a plugin's builder (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines and no Docker build output (warnings and "
              "errors stay).")
@click.option("--json", "as_json", is_flag=True, help="Print the build manifest as JSON.")
def build(names: tuple[str, ...], env: str | None, skip_tests: bool, base_image: str | None,
          dockerfile: Path | None, cache_from: tuple[str, ...], no_cache: bool, export_tar: bool, network: str | None,
          workflow_id: str | None, start_time: str | None, extra: tuple[str, ...], quiet: bool,
          as_json: bool) -> None:
    """Build artifacts: every registered builder, or the NAMEs given (requirements, package, image, dags, ...).

    What was built is recorded in build/manifest.json, which 'bigflow deploy' reads.
    """
    from bigflow.artifacts import Manifest
    from bigflow.builders import CORE_ORDER, say
    from bigflow.builders.requirements import check_stale
    from bigflow.versioning import project_version

    if quiet:
        from bigflow.verbosity import set_level

        set_level(-1)
    project = _project()
    builders = _selected("artifact_builder", names, CORE_ORDER)
    if not builders:
        raise BigflowError("no artifact builder is registered (core's are disabled?); see 'bigflow plugins list'")
    version = project_version(project.root)
    if "requirements" not in dict(builders):
        stale = check_stale(project)
        if stale:
            _warn(stale)
    options = _options(extra, env=env, version=version, skip_tests=skip_tests, base_image=base_image,
                       dockerfile=str(dockerfile) if dockerfile else None, cache_from=list(cache_from),
                       no_cache=no_cache, export_tar=export_tar, network=network, workflow=workflow_id, start_time=start_time,
                       quiet=quiet)
    for name, builder in builders:
        say(f"==> build {name} (version {version})")
        artifacts = _as_artifacts(name, project.root, builder.build(project, dict(options)))
        manifest = Manifest.read(project.root, required=False)  # a builder may have recorded something itself
        if manifest is None or manifest.version != version or manifest.project != project.name:
            manifest = Manifest(project.name, version)
        manifest.replace({a.kind for a in artifacts}, artifacts)
        manifest.write(project.root)
    manifest = Manifest.read(project.root)
    assert manifest is not None
    if as_json:
        from dataclasses import asdict

        from bigflow.cli.output import print_json

        print_json(asdict(manifest))
        return
    from bigflow.cli.output import print_table

    rows = [(a.kind, a.name, a.path or "", (a.digest or "")[:19]) for a in manifest.artifacts]
    print_table(f"{project.name} {version}: build/manifest.json", ("Kind", "Name", "Path", "Digest"), rows)


def _call(method: Any, project: Any, manifest: Any, env: str, options: dict[str, Any]) -> Any:
    """``method(project, manifest, env)``, with ``options`` too when the target accepts them."""
    parameters = inspect.signature(method).parameters
    if "options" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return method(project, manifest, env, options=options)
    return method(project, manifest, env)


def _deploy_setup(names: tuple[str, ...], env: str | None):
    from bigflow import environment
    from bigflow.artifacts import Manifest
    from bigflow.builders import DEPLOY_ORDER

    project = _project()
    manifest = Manifest.read(project.root)
    assert manifest is not None
    try:
        from bigflow.versioning import project_version

        current = project_version(project.root)
    except BigflowError:
        current = manifest.version
    if current != manifest.version:
        _warn(f"build/manifest.json is of version {manifest.version}, the working tree is {current}; "
              f"using what was built ({manifest.version})")
    targets = _selected("deploy_target", names, DEPLOY_ORDER)
    if not targets:
        raise BigflowError("no deploy target is registered; see 'bigflow plugins list'")
    return project, manifest, environment.get(project, env).name, targets


def _print_plan(plan: Any) -> None:
    marks = (("+", plan.add), ("~", plan.change), ("-", plan.remove), ("=", plan.unchanged))
    click.echo(f"{plan.target}:" + ("" if any(items for _, items in marks) else " nothing to do"))
    for mark, items in marks:
        for item in items:
            click.echo(f"  {mark} {item}")
    for note in plan.notes:
        click.echo(f"  note: {note}")


def _report(plans: list[Any], as_json: bool) -> None:
    if as_json:
        from dataclasses import asdict

        from bigflow.cli.output import print_json

        print_json([asdict(p) for p in plans])
        return
    for plan in plans:
        _print_plan(plan)


_names = click.argument("names", nargs=-1, metavar="[TARGET]...")
_env = click.option("--config", "-c", "env", metavar="ENV", help="Environment to deploy to (default: the default one).")
_latest = click.option("--latest", is_flag=True, help="image: also tag and push 'latest'.")
_json = click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON.")


@click.command("plan")
@_names
@_env
@_latest
@_json
def plan(names: tuple[str, ...], env: str | None, latest: bool, as_json: bool) -> None:
    """Show what 'bigflow deploy' would add (+), change (~), remove (-) and leave (=), per deploy target."""
    project, manifest, env_name, targets = _deploy_setup(names, env)
    options = {"latest": latest}
    _report([_call(target.plan, project, manifest, env_name, options) for _, target in targets], as_json)


@click.command("deploy")
@_names
@_env
@_latest
@_json
def deploy(names: tuple[str, ...], env: str | None, latest: bool, as_json: bool) -> None:
    """Deploy what build/manifest.json records: to every deploy target, or the TARGETs given (image, ...)."""
    from bigflow.builders import say

    project, manifest, env_name, targets = _deploy_setup(names, env)
    options = {"latest": latest}
    plans = []
    for name, target in targets:
        say(f"==> deploy {name} (environment {env_name}, version {manifest.version})")
        plans.append(_call(target.deploy, project, manifest, env_name, options))
    _report([p for p in plans if p is not None], as_json)
