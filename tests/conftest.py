"""Fixtures of the cross-package tests."""

from __future__ import annotations

import subprocess

import pytest

from support import FIXTURES, ROOT, Venv, build_wheel


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """bigflow-core plus two third-party plugins, built as wheels from tests/fixtures and installed."""
    base = tmp_path_factory.mktemp("plugin-venv")
    venv = Venv(base / "venv")
    wheels = [build_wheel(FIXTURES / name, base / "wheels") for name in ("bigflow-hello", "bigflow-broken", "bigflow-malformed")]
    venv.install(*map(str, wheels))
    return venv


@pytest.fixture(scope="session")
def wheelhouse() -> dict[str, str]:
    """pip's settings to install without an index, from the wheelhouse of ``scripts/wheelhouse`` (the README's
    way; built once per ``uv.lock``): every third-party package, and hatchling to build bigflow's."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "wheelhouse")], capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"scripts/wheelhouse failed:\n{done.stderr[-3000:]}"
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": done.stdout.strip()}
