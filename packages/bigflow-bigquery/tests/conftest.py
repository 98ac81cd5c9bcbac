"""Fixtures: ONE ephemeral BigQuery emulator per test session, and a fresh dataset per test."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
# DuckDB extensions installed by scripts/setup.d/30-bigquery.sh (the emulator installs them itself if missing).
os.environ.setdefault("BIGFLOW_DUCKDB_HOME", str(REPO / ".cache" / "duckdb"))
PROJECT = "test-project"


@pytest.fixture(scope="session")
def bq_emulator():
    from bigflow_bigquery import emulator

    running = emulator.start(project=PROJECT)
    yield running
    emulator.stop(running)


@pytest.fixture
def bq_config(bq_emulator) -> dict[str, str]:
    """An environment's configuration pointing at the session's emulator."""
    return {"env": "local", "bigquery_endpoint": bq_emulator.url, "gcp_project_id": PROJECT}


@pytest.fixture
def bq_settings(bq_config):
    from bigflow_bigquery.settings import Settings

    return Settings.from_config(bq_config)


@pytest.fixture
def dataset_name(request) -> str:
    """A dataset name no other test uses."""
    return "t_" + re.sub(r"\W", "_", request.node.name)[:40].lower() + "_" + uuid.uuid4().hex[:6]


@pytest.fixture
def make_manager(bq_settings, dataset_name):
    """``make_manager(runtime, **DatasetConfig kwargs)``: a DatasetManager on the test's dataset."""
    from bigflow_bigquery.config import DatasetConfig
    from bigflow_bigquery.dataset import DatasetManager

    def make(runtime: str = "2024-01-01", **kwargs) -> DatasetManager:
        kwargs.setdefault("internal_tables", ["events", "daily", "hourly", "totals", "by_day"])
        config = DatasetConfig(env=None, project_id=PROJECT, dataset_name=dataset_name, **kwargs)
        return DatasetManager(config.spec("test"), bq_settings, runtime)

    return make


@pytest.fixture
def job_context(bq_config):
    """``job_context(runtime)``: the context a job gets in an environment using the session's emulator."""
    from bigflow.workflow import JobContext

    def make(runtime: str = "2024-01-01"):
        return JobContext.make(runtime=datetime.fromisoformat(runtime), env="local", config=bq_config)

    return make


def _plain(value):
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat() if hasattr(value, "isoformat") else value


@pytest.fixture
def fetch():
    """``fetch(manager, sql)``: a query's rows as tuples (dates and times as strings)."""

    def run(manager, sql: str) -> list[tuple]:
        return [tuple(_plain(v) for v in row.values()) for row in manager.collect_list(sql)]

    return run


@pytest.fixture
def write_project(tmp_path, monkeypatch):
    """``write_project(project, package, environments, root=tmp_path)``: ``root`` made a bigflow project and the
    working directory (``bf_env`` unset). Its ``pyproject.toml`` has the ``[project]`` table ``project`` (such as
    ``{"name": "shop"}``), ``package`` and, for each environment, a table of its settings."""
    from bigflow.builders.build_secrets import toml_value

    def write(project: dict[str, Any], package: str, environments: dict[str, dict[str, Any]],
              root: Path = tmp_path) -> Path:
        tables = {"project": project, "tool.bigflow": {"package": package},
                  **{f"tool.bigflow.environments.{env}": settings for env, settings in environments.items()}}
        root.mkdir(parents=True, exist_ok=True)
        (root / "pyproject.toml").write_text("\n".join(
            f"[{name}]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in table.items())
            for name, table in tables.items()))
        monkeypatch.chdir(root)
        monkeypatch.delenv("bf_env", raising=False)
        return root

    return write


@pytest.fixture
def bq_project(tmp_path, write_project, bq_emulator):
    """A bigflow project (the working directory) whose 'local' environment uses the session's emulator."""
    write_project({"name": "bq-test"}, "bq_test", {"local": {"bigquery_endpoint": bq_emulator.url,
                                                             "gcp_project_id": PROJECT},
                                                   "prod": {"gcp_project_id": "my-prod-project"}})
    (tmp_path / "bq_test").mkdir()
    (tmp_path / "bq_test" / "__init__.py").write_text("")
    return tmp_path
