"""Fixtures of bigflow-beam's tests: throw-away bigflow projects, run through the real CLI in-process."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest


class BeamProject:
    """A bigflow project in a temporary directory: ``pyproject.toml`` plus modules of its package."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")

    def pyproject(self, environments: str = "") -> None:
        (self.root / "pyproject.toml").write_text(
            f'[project]\nname = "{self.package}"\nversion = "0.1"\n\n'
            f'[tool.bigflow]\npackage = "{self.package}"\n\n{textwrap.dedent(environments)}'
        )

    def module(self, name: str, source: str) -> Path:
        path = self.root / self.package / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    def write(self, files: dict[str, str]) -> None:
        for relative, text in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def _forget(package: str) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        del sys.modules[name]


@pytest.fixture
def beam_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., BeamProject]:
    """``beam_project(package="proj")``: a new project; the test runs inside it (cwd, sys.path)."""
    from bigflow.project import find_project

    created: list[str] = []

    def make(package: str = "beamproj", environments: str = "") -> BeamProject:
        project = BeamProject(tmp_path / "project", package)
        project.pyproject(environments)
        monkeypatch.chdir(project.root)
        monkeypatch.syspath_prepend(str(project.root))
        monkeypatch.delenv("bf_env", raising=False)
        find_project.cache_clear()
        _forget(package)
        created.append(package)
        return project

    yield make
    find_project.cache_clear()
    for package in created:
        _forget(package)


@pytest.fixture
def context_for():
    """``context_for(env, **config)``: a JobContext of workflow ``wf`` for a given environment and config."""
    from bigflow.workflow import JobContext

    def make(env: str = "local", *, workflow_id: str = "wf", **config) -> object:
        return JobContext.make(runtime=datetime(2024, 5, 1, 10),  workflow_id=workflow_id, env=env, config=config,
                               run_id="run1")

    return make
