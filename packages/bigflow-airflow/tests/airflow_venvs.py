"""Where the Airflow test venvs are: the same rule as scripts/setup.d/60-airflow.sh.

``${BIGFLOW_CACHE:-/var/cache/bigflow-ci}/airflow2`` (Airflow 2.10.5) and ``.../airflow3`` (Airflow 3.3.x), each
with the cncf-kubernetes and google providers, installed from the lock files in ``venvs/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

VERSIONS = {2: "2.10.5", 3: "3.3.2"}


def cache_dir() -> Path:
    return Path(os.environ.get("BIGFLOW_CACHE") or "/var/cache/bigflow-ci")


def venv(major: int) -> Path:
    """The venv of Airflow ``major``; fails the test loudly when it is missing."""
    path = cache_dir() / f"airflow{major}"
    if not (path / "bin" / "airflow").exists():
        pytest.fail(f"Airflow {VERSIONS[major]} venv missing at {path}: run scripts/setup "
                    "(or bash scripts/setup.d/60-airflow.sh)", pytrace=False)
    return path


def python(major: int) -> str:
    return str(venv(major) / "bin" / "python")


def environment(home: Path, major: int) -> dict[str, str]:
    """Process environment for running Airflow ``major`` with its own home (SQLite, no examples)."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "BIGFLOW_", "bf_"))}
    return {
        **keep,
        "PATH": f"{venv(major) / 'bin'}:{keep.get('PATH', '/usr/bin:/bin')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
