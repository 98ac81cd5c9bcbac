"""``bigflow build dags``: one Airflow DAG file per workflow, for one environment.

Files go to ``build/dags/<env>/<dag_id>.py`` and are recorded in the build manifest as ``dag`` artifacts
(details: ``dag_id``, ``workflow_id``, ``env``, ``image``, ``renderer``). Everything is rendered in memory
first; the directory is replaced only when every workflow rendered, so a bad workflow leaves the previous
build as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bigflow.api import Artifact, BigflowError, Option, runtimes
from bigflow_airflow import __version__
from bigflow_airflow.settings import DagSettings
from bigflow_airflow.spec import DagSpec, dag_spec

DAGS_DIR = Path("build") / "dags"
GENERATOR = f"bigflow-airflow {__version__}"


@dataclass(frozen=True)
class RenderedDag:
    spec: DagSpec
    renderer: str
    text: str

    @property
    def file_name(self) -> str:
        return f"{self.spec.dag_id}.py"


def image_reference(settings: DagSettings, version: str) -> str | None:
    """``<docker_repository>:<version>`` with ``+`` as ``-`` (tags cannot hold ``+``), as the image builder tags it."""
    if not settings.docker_repository:
        return None
    return f"{settings.docker_repository.rstrip('/')}:{version.replace('+', '-')}"


def default_start_time(root: Path) -> datetime:
    """The commit time of HEAD (UTC): the same for every build of one commit, so the output is reproducible."""
    from datetime import UTC

    from bigflow.api import git

    try:
        stamp = git(root, "log", "-1", "--format=%ct")
    except BigflowError:
        raise BigflowError(f"cannot read the commit time of {root} for the DAGs' start date; commit first, or set "
                           "dag_start_time = 'YYYY-MM-DD' in the environment's configuration") from None
    return datetime.fromtimestamp(int(stamp), UTC).replace(tzinfo=None)


def resolve_environment(project: Any, env: str | None) -> tuple[str, Mapping[str, Any]]:
    """The chosen environment's name and resolved configuration values (resolved once per process)."""
    from bigflow.api import environment

    config = environment(env, project)
    return config.name, config


def render_dags(project: Any, env: str | None = None, *, renderer_name: str | None = None,
                version: str | None = None, start_time: str | datetime | None = None,
                default_start: Callable[[Path], datetime] = default_start_time,
                only_workflow: str | None = None, extra: Mapping[str, Any] | None = None) -> list[RenderedDag]:
    """Every workflow of the project rendered as a DAG file for ``env``; nothing is written.

    The start time is ``start_time``, else the environment's ``dag_start_time``, else ``default_start(root)``.
    """
    from bigflow_airflow.renderers import renderer

    env_name, values = resolve_environment(project, env)
    settings = DagSettings.from_config(values, env_name)
    name = renderer_name or settings.operator
    chosen = renderer(name, env_name)
    if version is None:
        from bigflow.api import project_version

        version = project_version(project.root)
    image = image_reference(settings, version) if getattr(chosen, "needs_image", True) else None
    if start_time is not None:
        start = runtimes.parse(start_time, "--start-time")
    elif settings.start_time:
        start = runtimes.parse(settings.start_time, f"dag_start_time of environment {env_name!r}")
    else:
        start = default_start(project.root)
    if only_workflow is not None:  # imports only the module that defines it
        workflows = [project.finder.find(only_workflow)]
    else:  # a module that does not import is an error: it must not silently drop its DAGs from a deploy
        workflows = project.finder.all()
    rendered = []
    for workflow in workflows:
        spec = dag_spec(workflow, project=project.name, version=version, image=image, start_time=start,
                        settings=settings, generator=GENERATOR, extra=extra or {})
        rendered.append(RenderedDag(spec, name, chosen.render(spec)))
    if not rendered:
        raise BigflowError(f"no workflow found in package {project.package!r}; nothing to build")
    return rendered


def write_dags(directory: Path, rendered: list[RenderedDag], *, partial: bool = False) -> None:
    """Make ``directory`` hold exactly these files (with ``partial``: these, and the others as they are).

    Only files whose bytes differ are written, each to a temporary name first and then renamed over the old
    one, so an interrupted build never leaves half a file; stale files are removed last.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        present = {entry.name for entry in os.scandir(directory) if entry.name.endswith(".py")}
        for dag in rendered:
            target = directory / dag.file_name
            data = dag.text.encode()
            if dag.file_name in present and target.read_bytes() == data:
                continue
            write_replacing(target, data)
        if not partial:
            for name in present - {dag.file_name for dag in rendered}:
                (directory / name).unlink()
    except OSError as error:
        raise BigflowError(f"cannot write the DAG files to {shown(directory)}: {error.strerror or error}") from None


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (``build/dags/dev``), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_replacing(target: Path, data: bytes) -> None:
    """Write ``target`` through a short temporary name in its directory (a 250-character DAG id still fits the
    255-byte name limit), then rename it over the old file; the temporary file never outlives a failure."""
    descriptor, staging = tempfile.mkstemp(dir=target.parent, prefix=".bf-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), 0o644)  # mkstemp's 0600 would hide the DAG from other users' Airflow
            file.write(data)
        os.replace(staging, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        raise


def artifacts(root: Path, directory: Path, rendered: list[RenderedDag], *, partial: bool = False) -> list[Artifact]:
    return [
        Artifact(
            kind="dag",
            name=dag.file_name,
            path=str((directory / dag.file_name).relative_to(root)),
            digest="sha256:" + hashlib.sha256(dag.text.encode()).hexdigest(),
            details={"dag_id": dag.spec.dag_id, "workflow_id": dag.spec.workflow_id, "env": dag.spec.env,
                     "image": dag.spec.image, "renderer": dag.renderer, "version": dag.spec.version,
                     **({"partial": True} if partial else {})},
        )
        for dag in rendered
    ]


class DagsBuilder:
    """The ``dags`` artifact builder: one DAG file per workflow, for the environment of ``bigflow build``."""

    options = (
        Option("workflow", short="w", metavar="ID",
               help="only this workflow's DAG (for a look at it; such a build cannot be deployed)."),
        Option("start-time", short="t", metavar="'YYYY-MM-DD[ HH:MM:SS]'", help="start date of the DAGs."),
    )

    def build(self, project: Any, env: Any, options: Mapping[str, Any]) -> list[Artifact]:
        only = options.get("workflow")
        rendered = render_dags(project, env.name, version=options["version"], start_time=options.get("start_time"),
                               only_workflow=only)
        directory = project.root / DAGS_DIR / rendered[0].spec.env
        write_dags(directory, rendered, partial=bool(only))
        return artifacts(project.root, directory, rendered, partial=bool(only))
