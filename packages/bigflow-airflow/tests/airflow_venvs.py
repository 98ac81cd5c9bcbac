"""Where the Airflow test venvs are: the same rule as scripts/setup.d/60-airflow.sh.

``${BIGFLOW_CACHE:-/var/cache/bigflow-ci}/airflow2`` (Airflow 2.10.5) and ``.../airflow3`` (Airflow 3.3.x), each
with the cncf-kubernetes and google providers, installed from the lock files in ``venvs/``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
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


DUMP = Path(__file__).with_name("dagbag_dump.py")


def dagbags(root: Path, folders: Mapping[str, Path]) -> dict[int, dict]:
    """Load every folder in a DagBag of Airflow 2 and of Airflow 3 (both processes at once).

    Returns ``{major: {name: bag, ..., "airflow": version}}`` with each bag as ``dagbag_dump.py`` writes it.
    """
    running = {}
    for major in (2, 3):
        home = root / f"airflow{major}-home"
        (home / "dags").mkdir(parents=True)
        out, log = root / f"dump{major}.json", (root / f"dump{major}.log").open("w")
        running[major] = (out, log, subprocess.Popen(
            [python(major), str(DUMP), str(out), *map(str, folders.values())],
            env=environment(home, major), stdout=log, stderr=subprocess.STDOUT, cwd=home))
    dumps = {}
    for major, (out, log, process) in running.items():
        assert process.wait(timeout=300) == 0, Path(log.name).read_text()[-3000:]
        log.close()
        data = json.loads(out.read_text())
        dumps[major] = {**{name: data["bags"][str(folder)] for name, folder in folders.items()},
                        "airflow": data["airflow"]}
    return dumps
