"""The contribution protocols of the plugin API, the ``Option`` a builder or target declares, and the checks
core applies to what a contribution returns. Re-exported by ``bigflow.api``.

A protocol says what ``register(name, obj)`` expects per kind (see ``bigflow.plugins.kinds``):

====================  =============================  ==================================================
kind                  hook                           protocol
====================  =============================  ==================================================
job type              ``register_job_types``         ``JobType``: a class, ``JobType(id=..., **options)``
command               ``register_commands``          a ``click.Command``
config source         ``register_config_sources``    ``ConfigSource``
artifact builder      ``register_artifact_builders`` ``ArtifactBuilder``
deploy target         ``register_deploy_targets``    ``DeployTarget``
starter               ``register_starters``          ``Starter``
setting               ``register_settings``          ``bigflow.api.Setting``
====================  =============================  ==================================================
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bigflow.errors import PluginError

if TYPE_CHECKING:
    import click

    from bigflow.artifacts import Artifact, Manifest, Plan
    from bigflow.environment import Environment
    from bigflow.project import Project


@dataclass(frozen=True)
class Option:
    """A command-line option of a builder (``bigflow build NAME``) or a deploy target (``plan``/``deploy``).

    ``name`` is the option without dashes (``"base-image"`` -> ``--base-image``); the value reaches the
    builder or target as ``options["base_image"]`` (dashes become underscores): ``default`` when not given,
    a bool for a ``flag``, a list for ``multiple``.
    """

    name: str
    type: type = str
    help: str = ""
    default: Any = None
    flag: bool = False
    multiple: bool = False
    metavar: str | None = None
    short: str | None = None  # one letter: "w" -> -w

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")

    def click_option(self, owner: str) -> click.Option:
        """The click option, its help prefixed with the builder or target that declares it."""
        import click

        declarations = [f"--{self.name}", *([f"-{self.short}"] if self.short else []), self.key]
        kind = click.Path(path_type=Path) if self.type is Path else self.type
        return click.Option(
            declarations, is_flag=self.flag, multiple=self.multiple,
            type=None if self.flag else kind, default=self.default if not self.multiple else (),
            metavar=self.metavar, help=f"{owner}: {self.help}" if self.help else owner,
        )

    def value(self, given: Any) -> Any:
        if self.multiple:
            return list(given or self.default or [])
        if self.flag:
            return bool(given)
        return given


@runtime_checkable
class JobType(Protocol):
    """A job class: ``JobType(id=..., **options)`` builds a job with ``id`` and ``execute(context)``."""

    def __call__(self, id: str, **options: Any) -> Any: ...


class ConfigSource(Protocol):
    """Values of one environment from outside the project (a secret manager, ...)."""

    def load(self, env: str, keys: Collection[str]) -> Mapping[str, Any]:
        """The values this source knows for ``env`` (``keys``: those already known); they override code's."""
        ...


class ArtifactBuilder(Protocol):
    """A builder run by ``bigflow build`` (or ``bigflow build NAME``)."""

    #: the options ``bigflow build NAME`` accepts for it (shown by ``bigflow build NAME --help``)
    options: Sequence[Option]

    def build(self, project: Project, env: Environment, options: Mapping[str, Any]) -> Sequence[Artifact | str | Path]:
        """Build; return the artifacts (or file paths, relative to the project root) for ``build/manifest.json``.

        ``options`` holds every declared option (by ``Option.key``) plus ``version`` (the project version
        being built) and ``quiet`` (bool).
        """
        ...


class DeployTarget(Protocol):
    """A target of ``bigflow plan`` and ``bigflow deploy``."""

    #: the options ``bigflow plan``/``deploy`` accept for it
    options: Sequence[Option]

    def plan(self, project: Project, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """What ``deploy`` would add, change, remove and leave; changes nothing."""
        ...

    def deploy(self, project: Project, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """Deploy what ``manifest`` records to ``env``; return what was done."""
        ...


class Starter(Protocol):
    """Starter content of ``bigflow start-project``; optional ``environment_settings(context)``, ``extras`` and
    ``system_packages`` (see ``register_starters``)."""

    def files(self, context: Mapping[str, Any]) -> Mapping[str, str]:
        """``{relative_path: text}`` to write into the new project."""
        ...


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def returned(what: str, value: Any, expected: str) -> PluginError:
    """The one-line error for a contribution that broke its protocol."""
    return PluginError(f"{what} returned {type(value).__name__} {_shown(value)}, not {expected}")


def checked_plan(value: Any, what: str) -> Plan:
    """``value`` if it is a ``Plan``, else a one-line ``PluginError`` naming ``what`` (target, method, plugin)."""
    from bigflow.artifacts import Plan

    if not isinstance(value, Plan):
        raise returned(what, value, "a bigflow.api.Plan")
    return value


def checked_artifacts(value: Any, what: str, name: str, root: Path) -> list[Artifact]:
    """A builder's result as ``Artifact`` records (paths become files of kind ``name``); else a one-line error."""
    from bigflow.artifacts import Artifact

    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise returned(what, value, "a list of bigflow.api.Artifact or paths")
    artifacts = []
    for item in value:
        if isinstance(item, Artifact):
            artifacts.append(item)
        elif isinstance(item, (str, Path)):
            path = Path(item) if Path(item).is_absolute() else root / item
            if not path.is_file():
                raise PluginError(f"{what} returned the path {str(item)!r}, which is not a file")
            artifacts.append(Artifact.for_file(name, root, path))
        else:
            raise returned(what, item, "an Artifact or a path (in its list)")
    return artifacts


def declared_options(obj: Any, what: str) -> list[Option]:
    """``obj.options`` checked: a sequence of ``Option`` (none when the attribute is absent)."""
    options = getattr(obj, "options", ())
    if not isinstance(options, (list, tuple)) or not all(isinstance(o, Option) for o in options):
        raise returned(f"{what}.options", options, "a list of bigflow.api.Option")
    return list(options)
