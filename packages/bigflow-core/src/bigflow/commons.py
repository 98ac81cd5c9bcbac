"""BigFlow 1.x ``bigflow.commons``: the helpers 1.x user code and CI scripts import.

Not kept from 1.x: the process and Docker helpers (``run_process``, ``get_docker_image_id``,
``remove_docker_image_from_local_registry``; use ``subprocess`` and ``bigflow build image``) and the ``public``
decorator (an internal marker of 1.x).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from numbers import Number
from pathlib import Path

from bigflow.resources import resolve  # noqa: F401 (1.x name)

# No __all__, as in 1.x: ``from bigflow.commons import *`` also gives ``Path``, ``datetime`` and ``timedelta``.


def now(template: str = "%Y-%m-%d %H:00:00") -> str:
    """The current local time formatted with ``template`` (1.x's default: the start of the hour)."""
    return datetime.now().strftime(template)


def valid_datetime(dt: str) -> str:
    """``dt`` if it is ``NOW``, ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS``; else a ``ValueError``."""
    if dt == "NOW":
        return dt
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            datetime.strptime(dt, pattern)
            return dt
        except ValueError:
            pass
    raise ValueError(f"invalid runtime {dt!r}: expected NOW, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'")


def as_timedelta(value: None | str | Number | timedelta) -> timedelta | None:
    """Seconds (a number or a numeric string) as a timedelta; None or ``""`` stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))  # type: ignore[arg-type]


def build_docker_image_tag(docker_repository: str, package_version: str) -> str:
    """``REPOSITORY:VERSION`` with ``+`` (not allowed in a Docker tag) written as ``-``."""
    from bigflow.builders.image import image_tag

    return f"{docker_repository}:{image_tag(package_version)}"


def decode_version_number_from_file_name(file_path: Path) -> str:
    """The version in an image file name ``NAME-VERSION.tar``; a ``ValueError`` for any other file."""
    if file_path.suffix != ".tar":
        raise ValueError(f"expected a .tar file, got {file_path}")
    if not file_path.is_file():
        raise ValueError(f"file not found: {file_path}")
    name, dash, version = file_path.stem.partition("-")
    if not dash or not version:
        raise ValueError(f"invalid image file name {file_path.name!r}: expected NAME-VERSION.tar, e.g. image-0.1.0.tar")
    return version
