"""Nox sessions: per-package tests and lint, and ``all`` (what ``scripts/test`` and CI run).

Sessions use the workspace environment in ``.venv/`` (``scripts/setup`` creates it from uv.lock), so they
start instantly: run them as ``.venv/bin/nox --no-venv -s tests-bigflow-core``.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
BIN = ROOT / ".venv" / "bin"
PACKAGES = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())

nox.options.default_venv_backend = "none"
nox.options.sessions = ["all"]


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run(str(BIN / "pytest"), *paths, *session.posargs, external=True)


def _ruff(session: nox.Session, *paths: str) -> None:
    session.run(str(BIN / "ruff"), "check", *paths, external=True)


for _package in PACKAGES:

    @nox.session(name=f"tests-{_package}", venv_backend="none")
    def _tests(session: nox.Session, package: str = _package) -> None:
        _pytest(session, f"packages/{package}/tests")

    @nox.session(name=f"lint-{_package}", venv_backend="none")
    def _lint(session: nox.Session, package: str = _package) -> None:
        _ruff(session, f"packages/{package}")


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Lint every package, the cross-package tests, scripts and bench."""
    _ruff(session, "packages", "tests", "scripts", "bench", "noxfile.py")


@nox.session(name="all", venv_backend="none")
def all_(session: nox.Session) -> None:
    """Lint, then every package's tests and the cross-package tests in one pytest run."""
    lint(session)
    _pytest(session, *(f"packages/{p}/tests" for p in PACKAGES), "tests")
