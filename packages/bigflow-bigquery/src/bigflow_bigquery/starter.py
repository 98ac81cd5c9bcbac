"""Starter content for ``bigflow start-project``: a BigQuery example workflow that runs offline (emulator)."""

from __future__ import annotations

from string import Template
from typing import Any

#: the port of the rehearsal environment's emulator (fixed: the URL is part of the image's settings)
REHEARSAL_EMULATOR_PORT = 9050

WORKFLOW = '''\
"""Example BigQuery workflow: load a day of page views, wait for them, count them per day and per hour.

Run it offline against the BigQuery emulator (the local environment):

    bigflow run --workflow bigquery_example --runtime 2024-01-01

In dev and prod the same code runs on Google BigQuery, in the environment's gcp_project_id.
"""

from bigflow.api import Workflow
from bigflow_bigquery import BigQueryJob, DatasetConfig, component, sensor

dataset = DatasetConfig(
    env=None,            # every environment
    project_id=None,     # the environment's gcp_project_id
    dataset_name="${package}_example",
    internal_tables=["page_views", "daily_views", "hourly_views"],
).create_dataset_manager()


@component(ds=dataset)
def create_tables(ds):
    """Create the tables once (partitioned by a column, so each run replaces only its own partition)."""
    ds.create_table("""
        CREATE TABLE IF NOT EXISTS page_views (page STRING, viewed_at TIMESTAMP, day DATE)
        PARTITION BY day""")
    ds.create_table_from_schema("daily_views", [
        {"name": "day", "type": "DATE"}, {"name": "page", "type": "STRING"}, {"name": "views", "type": "INT64"},
    ], partition_column="day")
    ds.create_table_from_schema("hourly_views", [
        {"name": "hour", "type": "TIMESTAMP"}, {"name": "views", "type": "INT64"},
    ], partition_type="HOUR", partition_column="hour")


@component(ds=dataset)
def load_page_views(ds):
    """Stand-in for an ingestion: sample page views of the runtime's day (replaces that day only)."""
    ds.write_truncate("page_views", """
        SELECT page, TIMESTAMP_ADD(TIMESTAMP(DATE('{dt}')), INTERVAL minute MINUTE) AS viewed_at,
               DATE('{dt}') AS day
        FROM UNNEST(['home', 'docs', 'home', 'blog']) AS page WITH OFFSET AS n
        CROSS JOIN UNNEST([5, 65, 125]) AS minute
        WHERE n < IF(MOD(EXTRACT(DAY FROM DATE('{dt}')), 2) = 1, 4, 2)  -- odd days: 4 pages, even days: 2""")


@component(ds=dataset)
def hourly(ds):
    """Views per hour of the runtime's first hours: each write replaces one hourly partition."""
    for hour in range(3):
        ds.write_truncate("hourly_views", """
            SELECT TIMESTAMP_TRUNC(viewed_at, HOUR) AS hour, COUNT(*) AS views
            FROM {page_views}
            WHERE TIMESTAMP_TRUNC(viewed_at, HOUR) = TIMESTAMP('{dt}')
            GROUP BY hour""", custom_run_datetime=f"{ds.dt[:10]} {hour:02d}:00:00", partition_type="HOUR")


daily_views = BigQueryJob(
    "daily_views",
    sql_file="sql/daily_views.sql",
    destination="daily_views",
    write="truncate",
    partition="DAY",
    dataset=dataset,
)

workflow = Workflow(
    workflow_id="bigquery_example",
    definition=[
        create_tables.to_job(id="create_tables"),
        load_page_views.to_job(id="load_page_views"),
        sensor("page_views", "day = DATE('{dt}')", ds=dataset).to_job(
            id="wait_for_page_views", retry_count=3, retry_pause_sec=10),
        daily_views,
        hourly.to_job(id="hourly_views"),
    ],
    schedule_interval="@daily",
)
'''

SQL = '''\
-- Views per page on the runtime's day ({dt} is the runtime; {page_views} the table's full id).
SELECT day, page, COUNT(*) AS views
FROM {page_views}
WHERE day = DATE('{dt}')
GROUP BY day, page
'''

TEST = '''\
"""Runs the BigQuery example workflow on the emulator for two days and checks the rows it wrote.

The emulator keeps its data in .bigflow/ between runs, so the checks read only the days the test runs.
"""

from ${package}.bigquery_workflow import dataset, workflow

DAYS = "DATE '2024-01-01', DATE '2024-01-02'"


def rows(sql):
    return dataset.collect_list(sql).run("2024-01-02")


def test_each_run_replaces_its_own_partition():
    workflow.run("2024-01-01")
    workflow.run("2024-01-02")
    workflow.run("2024-01-02")  # a rerun replaces the same partitions: nothing is doubled

    daily = [tuple(r.values()) for r in rows(
        f"SELECT CAST(day AS STRING), page, views FROM {{daily_views}} WHERE day IN ({DAYS}) "
        "ORDER BY day, page")]
    assert daily == [
        ("2024-01-01", "blog", 3), ("2024-01-01", "docs", 3), ("2024-01-01", "home", 6),
        ("2024-01-02", "docs", 3), ("2024-01-02", "home", 3),
    ]
    hourly = [r["views"] for r in rows(
        f"SELECT views FROM {{hourly_views}} WHERE DATE(hour) IN ({DAYS}) ORDER BY hour")]
    assert hourly == [4, 4, 4, 2, 2, 2]
'''


class BigQueryStarter:
    """The BigQuery part of a new project: an example workflow, its SQL file and its test."""

    extras = ("emulator",)  # the local environment runs on the embedded emulator

    def files(self, context: dict[str, Any]) -> dict[str, str]:
        package = context["package"]
        values = {"package": package}
        return {
            f"{package}/bigquery_workflow.py": Template(WORKFLOW).substitute(values),
            f"{package}/sql/daily_views.sql": SQL,
            "tests/test_bigquery_workflow.py": Template(TEST).substitute(values),
        }

    def environment_settings(self, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``local`` starts an emulator per run; ``rehearsal`` writes into the project's rehearsal emulator, one
        the rehearsal's containers share (they run with the host's network), so its rows outlive them."""
        settings: dict[str, dict[str, Any]] = {}
        for env in context.get("environments", ["local", "dev", "prod"]):
            if env == "local":
                settings[env] = {"bigquery_endpoint": "emulator"}
            else:
                settings[env] = {"bigquery_endpoint": "bigquery", "bigquery_location": "EU"}
        settings["rehearsal"] = {"bigquery_endpoint": f"http://127.0.0.1:{REHEARSAL_EMULATOR_PORT}",
                                 "bigquery_emulator_port": REHEARSAL_EMULATOR_PORT,
                                 "bigquery_emulator_dir": ".bigflow/bigquery-rehearsal"}
        return settings
