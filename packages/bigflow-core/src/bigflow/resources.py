"""BigFlow 1.x ``bigflow.resources``: find files of a project (its ``resources/`` directory) from a workflow's code.

    from bigflow.resources import get_resource_absolute_path
    path = get_resource_absolute_path("query.sql", Path(__file__))

Not kept from 1.x: ``find_setup``, ``create_setup_body``, ``find_or_create_setup_for_main_project_package`` and
``read_requirements`` (1.x had deprecated them: the package is built by ``bigflow build package``, with no
setup.py) and ``create_file_if_not_exists`` (deprecated in 1.x too).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

__all__ = ["find_all_resources", "find_file", "get_resource_absolute_path", "resolve"]


def resolve(path: Path) -> str:
    """The absolute path, as a string."""
    return str(path.absolute())


def find_all_resources(resources_dir: Path) -> Iterator[str]:
    """Every file under ``resources_dir``, as a path relative to its parent (``resources/a/b.txt``)."""
    for path in sorted(resources_dir.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(resources_dir.parent))


def find_file(file_name: str, search_start_file: Path, max_depth: int = 10) -> Path:
    """``file_name`` in the nearest of the ``max_depth`` directories above ``search_start_file``; a ``ValueError``
    (as in 1.x) when none holds it."""
    for directory in list(Path(search_start_file).parents)[:max_depth]:
        if (directory / file_name).exists():
            return directory / file_name
    raise ValueError(f"can't find {file_name!r} in the {max_depth} directories above {search_start_file}")


def get_resource_absolute_path(resource_file_name: str, search_start_file: Path | None = None) -> Path:
    """The file ``resource_file_name`` of the nearest ``resources/`` directory above ``search_start_file`` (by
    default the caller's module); a ``ValueError`` when it is missing or not a file."""
    if search_start_file is None:
        search_start_file = Path(inspect.stack()[1].filename)
    result = find_file("resources", search_start_file) / resource_file_name
    if not result.is_file():
        raise ValueError(f"resource {resource_file_name!r} is not a file in {result.parent}")
    return result
