"""Helpers of the cross-package tests: real venvs with real wheels built from fixture directories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
UV = [str(Path(sys.executable).parent / "uv")]


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, capture text output; on an unexpected failure show what it printed."""
    done = subprocess.run(list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


class Venv:
    """A throw-away virtual environment with bigflow-core installed (editable) and a ``bigflow`` runner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        run(*UV, "venv", "--quiet", "--python", sys.executable, str(path))
        self.install("-e", str(ROOT / "packages" / "bigflow-core"))

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def install(self, *args: str) -> None:
        run(*UV, "pip", "install", "--quiet", "--python", self.python, *args)

    def bigflow(self, *args: str, env: dict[str, str] | None = None, check: bool = False,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run(str(self.path / "bin" / "bigflow"), *args, env=env, check=check, cwd=cwd)


def build_wheel(source: Path, out: Path) -> Path:
    run(*UV, "build", "--quiet", "--wheel", "--out-dir", str(out), str(source))
    (wheel,) = out.glob(f"{source.name.replace('-', '_')}-*.whl")
    return wheel
