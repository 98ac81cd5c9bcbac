"""Small bigflow projects written into a temporary directory, for the builder and deploy tests."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bigflow.api import environment
from bigflow.project import Project, find_project


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def make_project(root: Path, package: str, modules: Mapping[str, str],
                 environments: Mapping[str, Mapping[str, Any]], name: str | None = None) -> Project:
    """A project ``name`` (default: the package) with ``package/<module>.py`` files and environments.

    Package names must be unique per test session: the finder imports them into this process.
    """
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[project]", f'name = "{name or package}"', 'version = "0"', "", "[tool.bigflow]",
             f'package = "{package}"']
    for env, values in environments.items():
        lines += ["", f"[tool.bigflow.environments.{env}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    (root / package).mkdir(exist_ok=True)
    (root / package / "__init__.py").write_text("")
    for module, source in modules.items():
        (root / package / f"{module}.py").write_text(textwrap.dedent(source))
    project = find_project(root)
    assert project is not None and project.root == root.resolve()
    return project


JOBS = '''
import os
from pathlib import Path

from bigflow.workflow import Job


class Step(Job):
    """Leaves a file MARK_DIR/<workflow>.<job>@<runtime>; fails when its id is listed in FAIL_JOBS."""

    def execute(self, context):
        if self.id in os.environ.get("FAIL_JOBS", "").split(","):
            raise RuntimeError(f"{self.id} failed on purpose")
        if os.environ.get("MARK_DIR"):
            name = f"{context.workflow_id}.{self.id}@{context.runtime_str}@{context.env}"
            (Path(os.environ["MARK_DIR"]) / name).touch()
'''


def fresh(project: Project) -> Project:
    """The project as a new process would see it: its modules forgotten, its settings re-read."""
    import sys

    for name in [m for m in sys.modules if m == project.package or m.startswith(project.package + ".")]:
        del sys.modules[name]
    find_project.cache_clear()
    found = find_project(project.root)
    assert found is not None
    return found


def build(project: Project, env: str, version: str = "1.0.0", start_time: str = "2024-01-01"):
    """``bigflow build dags`` for ``env`` (in-process), as a Manifest."""
    from bigflow.artifacts import Manifest
    from bigflow_airflow.builder import DagsBuilder

    project = fresh(project)
    artifacts = DagsBuilder().build(project, environment(env, project), {"version": version, "start_time": start_time})
    return Manifest(project.name, version, artifacts)
