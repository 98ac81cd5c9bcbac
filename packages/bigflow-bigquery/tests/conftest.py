"""Fixtures: ONE ephemeral BigQuery emulator per test session, and a fresh dataset per test."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from pathlib import Path

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
def bq_project(tmp_path, monkeypatch, bq_emulator):
    """A bigflow project (the working directory) whose 'local' environment uses the session's emulator."""
    (tmp_path / "pyproject.toml").write_text(f"""
[project]
name = "bq-test"

[tool.bigflow]
package = "bq_test"

[tool.bigflow.environments.local]
bigquery_endpoint = "{bq_emulator.url}"
gcp_project_id = "{PROJECT}"

[tool.bigflow.environments.prod]
gcp_project_id = "my-prod-project"
""")
    (tmp_path / "bq_test").mkdir()
    (tmp_path / "bq_test" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("bf_env", raising=False)
    return tmp_path
