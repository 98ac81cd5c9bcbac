"""``bigflow build``, ``bigflow plan`` and ``bigflow deploy``: artifact builders and deploy targets from plugins.

Builders and targets are contributions of plugins (core's own: ``requirements``, ``package``, ``image``
builders and the ``image`` target). Each declares its command-line options (``bigflow.api.Option``); core
knows none of them. The environment is resolved once per command and handed to every builder and target.
Each builder's artifacts go into ``build/manifest.json`` as soon as it succeeds, so a failing builder leaves
what was built before it, and its own previous artifacts, intact.
"""

from __future__ import annotations

from typing import Any

import click

from bigflow.errors import BigflowError, RefusedError

#: kind -> what to call one in messages
_KINDS = {"artifact_builder": "builder", "deploy_target": "target"}


def _project():
    from bigflow.plugins.requirements import check_required
    from bigflow.project import find_project, require_project

    find_project.cache_clear()  # the cwd may have changed since an earlier lookup in this process
    project = require_project()
    check_required(project)
    return project


def _first(kind: str) -> tuple[str, ...]:
    from bigflow.builders import CORE_ORDER, DEPLOY_ORDER

    return CORE_ORDER if kind == "artifact_builder" else DEPLOY_ORDER


def _selected(kind: str, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(name, object) of the named contributions, or of all of them in their run order."""
    from bigflow import plugins
    from bigflow.builders import ordered

    host = plugins.host()
    if names:
        return [(name, host.contribution(kind, name)) for name in dict.fromkeys(names)]
    return [(name, host.contribution(kind, name)) for name in ordered(host.contributions(kind), _first(kind))]


def _what(kind: str, name: str) -> str:
    """``image builder 'image' (plugin 'bigflow-core')``, for messages about a contribution."""
    from bigflow import plugins

    return f"{_KINDS[kind]} {name!r} (plugin {plugins.host().owner_of(kind, name)!r})"


class DeclaredOptionsCommand(click.Command):
    """A command whose options include those its builders or targets declare.

    ``bigflow build NAME --help`` shows NAME's options only; without a NAME, every one's.
    """

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["bigflow_args"] = list(args)
        return super().parse_args(ctx, args)

    def declared(self, ctx: click.Context) -> list[tuple[str, Any]]:
        """(contribution name, Option) of the contributions the command line names, or of all."""
        from bigflow import plugins
        from bigflow.contracts import declared_options

        if "bigflow_declared" not in ctx.meta:
            available = plugins.host().contributions(self.kind)
            named = tuple(a for a in ctx.meta.get("bigflow_args", []) if a in available)
            ctx.meta["bigflow_declared"] = [
                (name, option) for name, obj in _selected(self.kind, named)
                for option in declared_options(obj, _what(self.kind, name))
            ]
        return ctx.meta["bigflow_declared"]

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        taken = {p.name for p in params}
        extra = []
        for name, option in self.declared(ctx):
            if option.key not in taken:
                taken.add(option.key)
                extra.append(option.click_option(name))
        return [*params[:-1], *extra, params[-1]]  # --help stays last


def _options_of(kind: str, name: str, obj: Any, given: dict[str, Any], **common: Any) -> dict[str, Any]:
    from bigflow.contracts import declared_options

    options = {o.key: o.value(given.get(o.key)) for o in declared_options(obj, _what(kind, name))}
    return {**options, **common}


def _environment(project: Any, env: str | None) -> Any:
    from bigflow.environment import get

    return get(project, env)


def _require_dag_builder(env: Any) -> None:
    """An environment with a DAG destination and no DAG builder would deploy no DAGs without a word."""
    from bigflow import plugins

    if env.get("dags_bucket") and "dags" not in plugins.host().contributions("artifact_builder"):
        raise BigflowError(f"environment {env.name!r} has dags_bucket but no DAG builder is installed, so no DAG "
                           "would be built or deployed: pip install bigflow-airflow")


def _config_flag(env: Any) -> str:
    return f" --config {env.name}"


@click.command("build", cls=DeclaredOptionsCommand, kind="artifact_builder")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--config", "-c", "env", metavar="ENV", help="Environment whose settings to use (docker_repository, ...).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines and no Docker build output (warnings and "
              "errors stay).")
@click.option("--json", "as_json", is_flag=True, help="Print the build manifest as JSON.")
def build(names: tuple[str, ...], env: str | None, quiet: bool, as_json: bool, **given: Any) -> None:
    """Build artifacts: every registered builder, or the NAMEs given (requirements, package, image, dags, ...).

    What was built is recorded in build/manifest.json, which 'bigflow deploy' reads. The options of each
    builder are shown by 'bigflow build NAME --help'.
    """
    from bigflow.builders.image import EngineUnavailable
    from bigflow.builders.requirements import check_stale
    from bigflow.output import say, warn
    from bigflow.versioning import project_version

    if quiet:
        from bigflow.verbosity import set_level

        set_level(-1)
    project = _project()
    environment = _environment(project, env)
    builders = _selected("artifact_builder", names)
    if not builders:
        raise BigflowError("no artifact builder is registered (core's are disabled?); see 'bigflow plugins list'")
    _require_dag_builder(environment)
    version = project_version(project.root)
    if "requirements" not in dict(builders):
        stale = check_stale(project)
        if stale:
            warn(stale)
    skipped = ""
    for name, builder in builders:
        say(f"==> build {name} (version {version})")
        options = _options_of("artifact_builder", name, builder, given, version=version, quiet=quiet)
        try:
            produced = builder.build(project, environment, options)
        except EngineUnavailable as error:
            if len(builders) == 1:  # the image alone was asked for: the error is the answer
                raise
            skipped = f"image not built: {error}; then run 'bigflow build {name}{_config_flag(environment)}'"
            continue
        _record(project, version, name, produced)
    manifest = _read_manifest(project.root)
    assert manifest is not None
    _show_manifest(project, version, manifest, as_json)
    if skipped:
        warn(skipped)


def _read_manifest(root: Any) -> Any:
    """The manifest to add to; an unreadable one is reported and started anew (this build rewrites it)."""
    from bigflow.artifacts import CorruptManifest, Manifest
    from bigflow.output import warn

    try:
        return Manifest.read(root, required=False)
    except CorruptManifest as error:
        warn(f"{str(error).split(';')[0]}; starting a new one")
        return None


def _record(project: Any, version: str, name: str, produced: Any) -> None:
    from bigflow.artifacts import Manifest
    from bigflow.contracts import checked_artifacts

    artifacts = checked_artifacts(produced, f"{_what('artifact_builder', name)} build()", name, project.root)
    manifest = _read_manifest(project.root)  # a builder may have recorded something itself
    if manifest is None or manifest.version != version or manifest.project != project.name:
        manifest = Manifest(project.name, version)
    manifest.replace({a.kind for a in artifacts}, artifacts)
    manifest.write(project.root)


def _show_manifest(project: Any, version: str, manifest: Any, as_json: bool) -> None:
    from dataclasses import asdict

    from bigflow.output import print_json, print_table

    if as_json:
        print_json(asdict(manifest))
        return
    rows = [(a.kind, a.name, a.path or "", (a.digest or "")[:19]) for a in manifest.artifacts]
    print_table(f"{project.name} {version}: build/manifest.json", ("Kind", "Name", "Path", "Digest"), rows)


def _deploy_setup(names: tuple[str, ...], env: str | None):
    from bigflow.artifacts import Manifest
    from bigflow.output import warn

    project = _project()
    environment = _environment(project, env)
    targets = _selected("deploy_target", names)  # an unknown TARGET is refused before anything is read
    if not targets:
        raise BigflowError("no deploy target is registered; see 'bigflow plugins list'")
    _require_dag_builder(environment)
    manifest = Manifest.read(project.root, rebuild=f"bigflow build{_config_flag(environment)}")
    assert manifest is not None
    try:
        from bigflow.versioning import project_version

        current = project_version(project.root)
    except BigflowError:
        current = manifest.version
    if current != manifest.version:
        warn(f"build/manifest.json is of version {manifest.version}, the working tree is {current}; "
             f"using what was built ({manifest.version})")
    return project, manifest, environment, targets


def _run(method: str, name: str, target: Any, project: Any, manifest: Any, env: Any, given: dict[str, Any]) -> Any:
    """``target.plan``/``target.deploy`` with its declared options; its result checked to be a Plan."""
    from bigflow.contracts import checked_plan

    options = _options_of("deploy_target", name, target, given)
    result = getattr(target, method)(project, manifest, env, options)
    return checked_plan(result, f"{_what('deploy_target', name)} {method}()")


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

        from bigflow.output import print_json

        print_json([asdict(p) for p in plans])
        return
    for plan in plans:
        _print_plan(plan)


_names = click.argument("names", nargs=-1, metavar="[TARGET]...")
_env = click.option("--config", "-c", "env", metavar="ENV", help="Environment to deploy to (default: the default one).")
_json = click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON.")


@click.command("plan", cls=DeclaredOptionsCommand, kind="deploy_target")
@_names
@_env
@_json
def plan(names: tuple[str, ...], env: str | None, as_json: bool, **given: Any) -> None:
    """Show what 'bigflow deploy' would add (+), change (~), remove (-) and leave (=), per deploy target."""
    project, manifest, environment, targets = _deploy_setup(names, env)
    _report([_run("plan", name, target, project, manifest, environment, given) for name, target in targets], as_json)


@click.command("deploy", cls=DeclaredOptionsCommand, kind="deploy_target")
@_names
@_env
@_json
@click.option("--yes", "-y", is_flag=True, help="Deploy to a protected environment without asking.")
def deploy(names: tuple[str, ...], env: str | None, as_json: bool, yes: bool, **given: Any) -> None:
    """Deploy what build/manifest.json records: to every deploy target, or the TARGETs given (image, ...).

    A protected environment ([tool.bigflow] protected = ["prod"]) asks for confirmation on a terminal, and
    needs --yes elsewhere.
    """
    from bigflow.output import confirm, say

    project, manifest, environment, targets = _deploy_setup(names, env)
    if environment.name in project.settings.get("protected", []) and not confirm(
        f"Deploy {project.name} {manifest.version} to the protected environment {environment.name!r}?",
        assume_yes=yes,
    ):
        raise RefusedError(f"deploy to the protected environment {environment.name!r} refused: confirm on a "
                           "terminal, or pass --yes")
    plans = []
    for name, target in targets:
        say(f"==> deploy {name} (environment {environment.name}, version {manifest.version})")
        plans.append(_run("deploy", name, target, project, manifest, environment, given))
    _report(plans, as_json)
