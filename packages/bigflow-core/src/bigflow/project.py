"""Finding the project a command runs in and reading its ``[tool.bigflow]`` settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bigflow.errors import BigflowError


@dataclass(frozen=True)
class Project:
    """A bigflow project: its root directory and its ``[tool.bigflow]`` table."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = ""


def _read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise BigflowError(f"{path} is not valid TOML: {error}") from None


@cache
def find_project(start: Path | None = None) -> Project | None:
    """The nearest directory at or above ``start`` (default: cwd) whose pyproject.toml has ``[tool.bigflow]``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_pyproject(pyproject)
            settings = data.get("tool", {}).get("bigflow")
            if settings is not None:
                if not isinstance(settings, dict):
                    raise BigflowError(f"{pyproject}: [tool.bigflow] must be a table")
                return Project(directory, settings, data.get("project", {}).get("name", directory.name))
    return None
