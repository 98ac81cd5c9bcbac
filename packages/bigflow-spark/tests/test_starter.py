"""The starter: its files, written into a new project, run offline with ``bigflow run`` and pass their test."""

import csv
import os
import subprocess
import sys

import pytest

from bigflow.project import find_project
from bigflow_spark.starter import SparkStarter

CONTEXT = {"project_name": "orders-demo", "package": "orders_demo", "environments": ["local", "dev", "prod"]}


@pytest.fixture
def starter_project(tmp_path, monkeypatch):
    """A new project holding only the spark starter's files and environment settings."""
    starter = SparkStarter()
    root = tmp_path / "orders-demo"
    for path, text in starter.files(CONTEXT).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "orders_demo" / "__init__.py").write_text("")
    tables = "".join(
        f"\n[tool.bigflow.environments.{env}]\n" + "".join(f'{key} = "{value}"\n' for key, value in keys.items())
        for env, keys in starter.environment_settings(CONTEXT).items())
    (root / "pyproject.toml").write_text(
        '[project]\nname = "orders-demo"\nversion = "0.1.0"\n\n[tool.bigflow]\npackage = "orders_demo"\n' + tables)
    monkeypatch.chdir(root)
    find_project.cache_clear()  # core caches the project of "the current directory" once per process
    yield root
    find_project.cache_clear()
    for name in [n for n in sys.modules if n.split(".")[0] == "orders_demo"]:
        del sys.modules[name]


def test_files_and_environment_settings():
    files = SparkStarter().files(CONTEXT)
    assert set(files) == {"orders_demo/spark_workflow.py", "orders_demo/data/orders.csv",
                          "tests/test_spark_workflow.py"}
    assert 'resources.files("orders_demo")' in files["orders_demo/spark_workflow.py"]
    assert "from orders_demo.spark_workflow import" in files["tests/test_spark_workflow.py"]
    assert SparkStarter().environment_settings(CONTEXT) == {
        "local": {"spark_master": "local[*]"}, "dev": {"spark_master": "dataproc"},
        "prod": {"spark_master": "dataproc"}}
    assert list(SparkStarter.system_packages) == ["openjdk-17-jre-headless"]  # Java: local Spark in the image


def test_example_runs_offline_with_bigflow_run(starter_project, bigflow_cli, no_leftover_spark):
    result = bigflow_cli("run", "--workflow", "spark_orders", "--runtime", "2024-05-06", "--log-format", "text")
    assert result.exit_code == 0, result.stderr
    assert "aggregate_orders" in result.stdout and "success" in result.stdout
    (part,) = (starter_project / "build/output/spark_orders/2024-05-06").glob("part-*.csv")
    assert list(csv.DictReader(part.open())) == [
        {"country": "DE", "orders": "2", "total": "40.0"},
        {"country": "FR", "orders": "1", "total": "12.0"},
        {"country": "PL", "orders": "3", "total": "60.0"},
    ]


def test_example_test_passes(starter_project, no_leftover_spark):
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:bqemulator",
                           "tests/test_spark_workflow.py"], cwd=starter_project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(starter_project)}, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
