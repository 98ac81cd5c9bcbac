"""Finding the project a command runs in and reading its settings.

A project is the nearest directory at or above the current one whose ``pyproject.toml`` has a
``[tool.bigflow]`` table::

    [tool.bigflow]
    package = "my_project"              # default: the project name with '-' -> '_'
    default-environment = "local"       # default: 'local' when defined, else the first environment
    config = "my_project.config:config" # optional: a bigflow.Config with per-environment properties
    required-plugins = ["bigflow-beam>=0.1"]

    [tool.bigflow.environments.dev]     # deployment settings and properties of each environment
    gcp_project_id = "my-dev-project"
    region = "europe-west1"
    docker_repository = "europe-west1-docker.pkg.dev/my-dev-project/bigflow/my-project"
    dags_bucket = "europe-west1-my-composer-bucket"

A BigFlow 1.x project (``setup.py`` calling ``bigflow.build.setup(name=...)``, ``deployment_config.py``) is
found too, and its ``deployment_config`` is read as the environments' settings.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigflow.errors import BigflowError

if TYPE_CHECKING:
    from bigflow.finder import WorkflowFinder


def _read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise BigflowError(f"{path} is not valid TOML: {error}") from None


def _setup_py_name(path: Path) -> str | None:
    """``name=`` of a ``setup(...)`` call in a 1.x ``setup.py``, read without running it."""
    try:
        tree = ast.parse(path.read_text(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "setup":
            for keyword in node.keywords:
                if keyword.arg in ("name", "project_name") and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


@dataclass(frozen=True)
class Project:
    """A bigflow project: its root directory, its ``[tool.bigflow]`` settings and its name."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    legacy: bool = False  # a BigFlow 1.x project (setup.py / deployment_config.py)

    @property
    def package(self) -> str:
        """The import name of the project's package."""
        package = self.settings.get("package") or re.sub(r"[-.]+", "_", self.name).lower()
        if not isinstance(package, str) or not package.isidentifier():
            raise BigflowError(f"[tool.bigflow] package must be a Python package name, got {package!r}")
        return package

    @cached_property
    def package_dir(self) -> Path:
        for candidate in (self.root / self.package, self.root / "src" / self.package):
            if (candidate / "__init__.py").is_file():
                return candidate
        raise BigflowError(
            f"project package {self.package!r} not found in {self.root} (nor in src/); "
            "set [tool.bigflow] package = \"...\" in pyproject.toml"
        )

    @cached_property
    def finder(self) -> WorkflowFinder:
        from bigflow.finder import WorkflowFinder

        return WorkflowFinder(self.root, self.package, self.package_dir)

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        """Settings of each environment declared in ``[tool.bigflow.environments]``."""
        environments = self.settings.get("environments", {})
        if not isinstance(environments, dict) or not all(isinstance(v, dict) for v in environments.values()):
            raise BigflowError("[tool.bigflow.environments] must hold one table per environment")
        return environments


def _legacy_project(directory: Path) -> Project | None:
    setup_py = directory / "setup.py"
    name = _setup_py_name(setup_py) if setup_py.is_file() else None
    if name is None and not (directory / "deployment_config.py").is_file():
        return None
    if name is None:
        packages = [p.name for p in directory.iterdir() if (p / "__init__.py").is_file() and not p.name.startswith("test")]
        if len(packages) != 1:
            return None
        name = packages[0]
    return Project(directory, {}, name, legacy=True)


def find_project(start: Path | None = None) -> Project | None:
    """The project containing ``start`` (default: the current directory), or None."""
    return _find_project((start or Path.cwd()).resolve())


@cache
def _find_project(here: Path) -> Project | None:
    """Cached per resolved directory: a process that changes directory finds the right project."""
    for directory in (here, *here.parents):
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_pyproject(pyproject)
            settings = data.get("tool", {}).get("bigflow")
            if settings is not None:
                if not isinstance(settings, dict):
                    raise BigflowError(f"{pyproject}: [tool.bigflow] must be a table")
                return Project(directory, settings, data.get("project", {}).get("name", directory.name))
        legacy = _legacy_project(directory)
        if legacy is not None:
            return legacy
    return None


find_project.cache_clear = _find_project.cache_clear  # type: ignore[attr-defined] # after editing pyproject.toml


def require_project() -> Project:
    """The current project, or a one-line error saying how to make one."""
    project = find_project()
    if project is None:
        raise BigflowError(
            f"no bigflow project found in {Path.cwd()} or above: add a [tool.bigflow] table to pyproject.toml, "
            "or create a project with 'bigflow start-project NAME'"
        )
    return project
