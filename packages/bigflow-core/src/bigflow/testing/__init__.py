"""Pytest fixtures for plugin authors (installed as a pytest plugin with bigflow-core).

- ``bigflow_host``: a fresh plugin host for the test (installed plugins are discovered as in a new process).
- ``bigflow_register``: ``bigflow_register(plugin_object, name="my-plugin")`` registers hook implementations
  for the duration of the test; they show up in ``bigflow plugins list`` as version ``0+test``.
- ``bigflow_cli``: ``bigflow_cli("plugins", "list", "--json", env={...})`` runs the CLI in-process and returns
  a ``CliResult`` with ``exit_code``, ``stdout`` and ``stderr``.

Example::

    def test_my_job_type(bigflow_register, bigflow_cli):
        bigflow_register(MyPlugin(), name="my-plugin")
        result = bigflow_cli("plugins", "list", "--json")
        assert result.exit_code == 0
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
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
            from bigflow.plugins import manager

            manager.reset_warnings()
            code = run_cli(list(args))
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke


# BigFlow 1.x: ``bigflow.testing.ForkIsolateMixin`` / ``SpawnIsolateMixin`` (see bigflow.testing.isolate)
from bigflow.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(("ForkIsolateMixin", "SpawnIsolateMixin"),
                                                            "bigflow.testing.isolate"), {"isolate"})
