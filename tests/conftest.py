"""Fixtures of the cross-package tests."""

from __future__ import annotations

import pytest

from support import FIXTURES, Venv, build_wheel


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """bigflow-core plus two third-party plugins, built as wheels from tests/fixtures and installed."""
    base = tmp_path_factory.mktemp("plugin-venv")
    venv = Venv(base / "venv")
    wheels = [build_wheel(FIXTURES / name, base / "wheels") for name in ("bigflow-hello", "bigflow-broken", "bigflow-malformed")]
    venv.install(*map(str, wheels))
    return venv
