"""The issue's "done when": a workflow mixing every kind of BigQuery job, run with ``bigflow run --config local``
(the plugin starts the project's emulator itself) for consecutive runtimes, with the exact rows asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

WORKFLOW = '''
from bigflow.workflow import Workflow
from bigflow_bigquery import BigQueryJob, DatasetConfig, component, sensor

dataset = DatasetConfig(None, None, "shop", internal_tables=[
    "orders", "daily_revenue", "hourly_revenue", "order_log"]).create_dataset_manager()


@component(ds=dataset)
def setup(ds):
    ds.create_table("CREATE TABLE IF NOT EXISTS orders "
                    "(day DATE, ordered_at TIMESTAMP, order_id STRING, amount INT64) PARTITION BY day")
    ds.create_table_from_schema("hourly_revenue", [{"name": "hour", "type": "TIMESTAMP"},
                                                   {"name": "revenue", "type": "INT64"}],
                                partition_type="HOUR", partition_column="hour")
    ds.create_table_from_schema("order_log", [{"name": "runtime", "type": "STRING"},
                                              {"name": "orders", "type": "INT64"}], partition_type=None)


@component(ds=dataset)
def hourly(ds):
    for hour in range(2):
        ds.write_truncate("hourly_revenue", """
            SELECT TIMESTAMP('{dt}') AS hour, SUM(amount) AS revenue FROM {orders}
            WHERE TIMESTAMP_TRUNC(ordered_at, HOUR) = TIMESTAMP('{dt}')""",
            custom_run_datetime=f"{ds.dt[:10]} {hour:02d}:00:00", partition_type="HOUR")


@component(ds=dataset)
def report(ds):
    frame = ds.collect("SELECT revenue FROM {daily_revenue} WHERE day = DATE('{dt}')")
    if frame.empty:
        raise ValueError("no revenue for " + ds.dt)
    return frame


workflow = Workflow("shop", [
    setup.to_job(id="setup"),
    dataset.write_truncate("orders", """
        SELECT DATE('{dt}') AS day, TIMESTAMP_ADD(TIMESTAMP(DATE('{dt}')), INTERVAL h HOUR) AS ordered_at,
               CONCAT(FORMAT_DATE('%d', DATE('{dt}')), '-', CAST(i AS STRING)) AS order_id,
               amount * EXTRACT(DAY FROM DATE('{dt}')) AS amount
        FROM (SELECT 1 AS i, 0 AS h, 10 AS amount UNION ALL SELECT 2, 0, 20 UNION ALL SELECT 3, 1, 5)
        """).to_job(id="load_orders"),
    sensor("orders", "day = DATE('{dt}')", ds=dataset).to_job(id="wait_for_orders", retry_count=0),
    BigQueryJob("daily_revenue", sql_file="sql/daily_revenue.sql", destination="daily_revenue",
                partition="DAY", partition_column="day", dataset=dataset, retry_count=0),
    hourly.to_job(id="hourly_revenue"),
    dataset.write_append("order_log", """
        SELECT '{dt}' AS runtime, COUNT(*) AS orders FROM {orders} WHERE day = DATE('{dt}')""",
        partitioned=False).to_job(id="log_orders"),
    report.to_job(id="report"),
])
'''

DAILY_SQL = """-- revenue per day
SELECT day, SUM(amount) AS revenue, COUNT(*) AS orders
FROM {orders}
WHERE day = DATE('{dt}')
GROUP BY day
"""


def bigflow(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("bf_", "PYTEST"))}
    return subprocess.run([str(BIN / "bigflow"), *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=300)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def shop(tmp_path: Path, write_project, bigflow_cli) -> Path:
    write_project({"name": "shop", "version": "0.1.0"}, "shop", {"local": {"bigquery_endpoint": "emulator"},
                                                                 "prod": {"gcp_project_id": "shop-prod"}})
    package = tmp_path / "shop"
    (package / "sql").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "workflow.py").write_text(WORKFLOW)
    (package / "sql" / "daily_revenue.sql").write_text(DAILY_SQL)
    yield tmp_path
    assert bigflow_cli("bigquery", "emulator", "stop").exit_code == 0


@pytest.fixture
def query(bigflow_cli):
    """Rows of a query in the local environment (in-process ``bigflow bigquery query --json``)."""

    def run(sql: str) -> list[dict]:
        result = bigflow_cli("bigquery", "query", "--config", "local", "--json", sql)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return run


def test_consecutive_runtimes_replace_only_their_own_partitions(shop: Path, query, bigflow_cli):
    for runtime in ("2024-01-01", "2024-01-02", "2024-01-02"):  # the last one: a rerun of the same day
        out = ok(bigflow(shop, "run", "--workflow", "shop", "--config", "local", "--runtime", runtime))
        assert "report" in out and "failed" not in out
    assert (shop / ".bigflow" / "bigquery" / "data").is_dir()  # the emulator's data outlived each run

    assert bigflow_cli("bigquery", "emulator", "start").exit_code == 0  # one emulator for the checks below
    assert query("SELECT CAST(day AS STRING) AS day, revenue, orders FROM shop.daily_revenue "
                       "ORDER BY day") == [
        {"day": "2024-01-01", "revenue": 35, "orders": 3}, {"day": "2024-01-02", "revenue": 70, "orders": 3}]
    assert query("SELECT FORMAT_TIMESTAMP('%F %H', hour) AS hour, revenue FROM shop.hourly_revenue "
                       "ORDER BY hour") == [
        {"hour": "2024-01-01 00", "revenue": 30}, {"hour": "2024-01-01 01", "revenue": 5},
        {"hour": "2024-01-02 00", "revenue": 60}, {"hour": "2024-01-02 01", "revenue": 10}]
    assert query("SELECT order_id, amount FROM shop.orders ORDER BY order_id") == [
        {"order_id": "01-1", "amount": 10}, {"order_id": "01-2", "amount": 20}, {"order_id": "01-3", "amount": 5},
        {"order_id": "02-1", "amount": 20}, {"order_id": "02-2", "amount": 40}, {"order_id": "02-3", "amount": 10}]
    # appended each run; runtime_str keeps the form given on the command line, as in 1.x
    assert query("SELECT runtime, orders FROM shop.order_log ORDER BY runtime") == [
        {"runtime": "2024-01-01", "orders": 3}, {"runtime": "2024-01-02", "orders": 3},
        {"runtime": "2024-01-02", "orders": 3}]


def test_a_failing_job_is_one_line_and_keeps_the_previous_partition(shop: Path, query, bigflow_cli):
    """With an emulator started by 'bigflow bigquery emulator start', runs use it instead of starting one."""
    started = bigflow_cli("bigquery", "emulator", "start")
    assert started.exit_code == 0 and "BigQuery emulator started at http://127.0.0.1:" in started.stdout
    ok(bigflow(shop, "run", "--workflow", "shop", "--config", "local", "--runtime", "2024-01-01"))
    sql = shop / "shop" / "sql" / "daily_revenue.sql"
    sql.write_text(DAILY_SQL.replace("SUM(amount)", "SUM(amount_typo)"))
    done = bigflow(shop, "run", "--job", "shop.daily_revenue", "--config", "local", "--runtime", "2024-01-01")
    assert done.returncode == 1
    error = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "BigQuery job 'daily_revenue' (daily_revenue.sql) failed at line 2" in error[0]
    assert "Traceback" not in done.stderr
    assert query("SELECT revenue FROM shop.daily_revenue") == [{"revenue": 35}]
