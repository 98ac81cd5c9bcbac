"""Pytest fixtures for plugin authors (installed as a pytest plugin with bigflow-core).

- ``bigflow_host``: a fresh plugin host for the test (installed plugins are discovered as in a new process).
- ``bigflow_register``: ``bigflow_register(plugin_object, name="my-plugin")`` registers hook implementations
  for the duration of the test; they show up in ``bigflow plugins list`` as version ``0+test``.
- ``bigflow_cli``: ``bigflow_cli("plugins", "list", "--json", env={...})`` runs the CLI in-process and returns
  a ``CliResult`` with ``exit_code``, ``stdout`` and ``stderr``.
- ``bigflow_project``: a temporary project made by ``bigflow start-project``, git-initialised, committed and
  tagged ``v1.0.0``, as the working directory (pytest's ``pytester`` is the model): ``.root``,
  ``.write(path, text)``, ``.commit(message)``, ``.run(*args)`` (the CLI in-process, as ``bigflow_cli``). Use it to
  test builders and deploy targets through the CLI, as users run them.
- ``bigflow.testing.terminal.on_a_terminal(argv)``: runs a command on a pseudo-terminal, to test what a user sees
  there (progress lines appear only on a terminal).

Example::

    def test_my_job_type(bigflow_register, bigflow_cli):
        bigflow_register(MyPlugin(), name="my-plugin")
        result = bigflow_cli("plugins", "list", "--json")
        assert result.exit_code == 0
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


class _HostFactory:
    """Builds fresh plugin hosts that carry the plugin objects a test registered."""

    def __init__(self) -> None:
        self.registered: list[tuple[Any, str]] = []

    def fresh(self) -> Any:
        from bigflow import plugins
        from bigflow.plugins.manager import PluginHost

        host = PluginHost()
        for obj, name in self.registered:
            host.add_plugin(obj, name=name)
        plugins.set_host(host)
        return host


@contextmanager
def _environment(env: Mapping[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in env}
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def _bigflow_test_host() -> Iterator[_HostFactory]:
    from bigflow import plugins

    previous = plugins.set_host(None)
    test_host = _HostFactory()
    test_host.fresh()
    yield test_host
    plugins.set_host(previous)


@pytest.fixture
def bigflow_host(_bigflow_test_host: _HostFactory) -> Any:
    """The plugin host of this test (fresh: installed plugins discovered, nothing loaded yet)."""
    from bigflow import plugins

    return plugins.host()


@pytest.fixture
def bigflow_register(_bigflow_test_host: _HostFactory) -> Callable[..., None]:
    """Register a plugin object (module, class instance) for this test only."""

    def register(obj: Any, name: str = "test-plugin") -> None:
        from bigflow import plugins

        _bigflow_test_host.registered.append((obj, name))
        plugins.host().add_plugin(obj, name=name)

    return register


@pytest.fixture
def bigflow_cli(_bigflow_test_host: _HostFactory) -> Callable[..., CliResult]:
    """Run ``bigflow ARGS`` in-process, like a new process would (fresh plugin host, given env)."""
    from bigflow.cli import run_cli

    def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with _environment(env or {}), redirect_stdout(out), redirect_stderr(err):
            _bigflow_test_host.fresh()
            from bigflow.output import reset_warnings

            reset_warnings()
            code = run_cli(list(args))
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke


@dataclass
class ProjectDir:
    """A temporary bigflow project under git (see ``bigflow_project``)."""

    root: Path
    run: Callable[..., CliResult]

    def write(self, path: str, text: str) -> Path:
        """Write ``text`` to ``path`` (relative to the project root), creating directories."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-c", "user.name=bigflow-test", "-c", "user.email=test@example.com", *args],
                              cwd=self.root, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, message: str = "change", tag: str | None = None) -> None:
        """Commit everything (and tag it, e.g. ``v1.1.0``): a clean tree builds a release version."""
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        if tag:
            self.git("tag", tag)


def new_project(bigflow_cli: Callable[..., CliResult], directory: Path, name: str = "demo",
                tag: str = "v1.0.0") -> ProjectDir:
    """``bigflow start-project NAME`` in ``directory`` (the working directory), then git init, commit, tag.

    The project requires no plugin (its ``required-plugins`` line is dropped): a test venv holds the plugin under
    test, not every plugin the scaffold would ask for.
    """
    from bigflow.project import find_project

    created = bigflow_cli("start-project", name, "--no-input")
    if created.exit_code != 0:
        raise AssertionError(f"bigflow start-project failed: {created.stderr}")
    project = ProjectDir(directory / name, bigflow_cli)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text("".join(line for line in pyproject.read_text().splitlines(keepends=True)
                                 if not line.startswith("required-plugins =")))
    project.git("init", "-q")
    project.commit("start", tag=tag)
    find_project.cache_clear()
    return project


@pytest.fixture
def bigflow_project(bigflow_cli: Callable[..., CliResult], tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> ProjectDir:
    """A fresh project (``bigflow start-project demo``), committed and tagged v1.0.0, as the working directory."""
    monkeypatch.chdir(tmp_path)
    project = new_project(bigflow_cli, tmp_path)
    monkeypatch.chdir(project.root)
    return project


# BigFlow 1.x: ``bigflow.testing.ForkIsolateMixin`` / ``SpawnIsolateMixin`` (see bigflow.testing.isolate)
from bigflow.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(("ForkIsolateMixin", "SpawnIsolateMixin"),
                                                            "bigflow.testing.isolate"), {"isolate"})
