"""The 1.x dataset operations on the emulator (reads, DDL, loads, labels, location, dry runs)."""

from __future__ import annotations

import datetime
import json

import pandas as pd
import pytest

from bigflow.errors import BigflowError
from bigflow_bigquery.dataset import DryRun
from bigflow_bigquery.errors import AliasNotFoundError

SCHEMA = [{"name": "day", "type": "DATE"}, {"name": "n", "type": "INT64"}, {"name": "tag", "type": "STRING"}]


@pytest.fixture
def daily(make_manager):
    manager = make_manager()
    manager.create_table_from_schema("daily", SCHEMA, partition_column="day")
    return manager


def test_collect_returns_a_dataframe_and_collect_list_rows(make_manager):
    manager = make_manager("2024-03-04 05:06:07")
    frame = manager.collect("SELECT '{dt}' AS dt, 2 AS n")
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("records") == [{"dt": "2024-03-04 05:06:07", "n": 2}]
    rows = manager.collect_list("SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a")
    assert [row["a"] for row in rows] == [1, 2] and not isinstance(rows[0], dict)
    assert manager.collect_list("SELECT 1 AS a", record_as_dict=True) == [{"a": 1}]


def test_templating_fills_aliases_properties_and_custom_runtime(make_manager, fetch, dataset_name):
    manager = make_manager(external_tables={"ext": f"test-project.{dataset_name}.events"},
                           properties={"factor": 3, "suffix": "x{factor}"})
    manager.write_tmp("events", "SELECT 2 AS n")
    sql = ("SELECT n * {factor} AS a, '{suffix}' AS s, '{dt}' AS dt, '{events}' AS quoted "
           "FROM {ext} AS e JOIN `{events}` AS f USING (n)")
    assert fetch(manager, sql) == [(6, "x3", "2024-01-01", f"test-project.{dataset_name}.events")]
    assert fetch(manager, "SELECT '{dt}' AS dt -- it's {{literal}}") == [("2024-01-01",)]
    assert manager.collect_list("SELECT '{dt}' AS dt", custom_run_datetime="2024-02-03")[0]["dt"] == "2024-02-03"


def test_unknown_alias_names_the_nearest_one(make_manager):
    with pytest.raises(AliasNotFoundError, match=r"unknown table alias 'evnts'.*did you mean 'events'\?"):
        make_manager().collect("SELECT * FROM {evnts}")
    with pytest.raises(AliasNotFoundError, match=r"literal braces as '\{\{' and '\}\}'"):
        make_manager().collect("SELECT STRUCT({}) AS s")
    assert issubclass(AliasNotFoundError, ValueError)


def test_dry_run_reports_bytes_and_cost_from_the_configured_price(make_manager, bq_config):
    result = make_manager().dry_run("SELECT 1 AS a")
    assert isinstance(result, DryRun) and result.bytes_processed == 0
    assert result.startswith("This query will process 0.0 B and cost 0.0 USD.")
    assert str(DryRun.of(3 * 2**40, 6.25, False)) == "This query will process 3.0 TB and cost 18.75 USD."
    assert DryRun.of(2**39, 5.0, False).cost_usd == 2.5


def test_dry_run_of_invalid_sql_raises(make_manager):
    with pytest.raises(BigflowError, match="dry_run failed at line 2"):
        make_manager().dry_run("SELECT 1\nFROM")


def test_create_table_runs_ddl_in_the_dataset(make_manager, fetch):
    manager = make_manager()
    manager.create_table("CREATE TABLE IF NOT EXISTS events (day DATE, n INT64) PARTITION BY day")
    manager.create_table("CREATE TABLE IF NOT EXISTS events (day DATE, n INT64) PARTITION BY day")
    table = manager.client.get_table(manager.internal_tables["events"])
    assert table.time_partitioning.field == "day"


def test_create_table_from_schema_partitions_and_is_idempotent(make_manager, tmp_path):
    manager = make_manager()
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    manager.create_table_from_schema("daily", path, partition_column="day")
    manager.create_table_from_schema("daily", path, partition_column="day")
    manager.create_table_from_schema("hourly", [{"name": "at", "type": "TIMESTAMP"}], partition_type="HOUR",
                                     partition_column="at")
    manager.create_table_from_schema("plain", SCHEMA, partition_type=None)
    get = manager.client.get_table
    assert (get(manager.internal_tables["daily"]).time_partitioning.type_, get(
        manager.internal_tables["daily"]).time_partitioning.field) == ("DAY", "day")
    assert get(manager.internal_tables["hourly"]).time_partitioning.type_ == "HOUR"
    assert get(f"{manager.dataset_id}.plain").time_partitioning is None
    with pytest.raises(BigflowError, match="give either schema or table"):
        manager.create_table_from_schema("x")


def test_insert_records_into_the_runtimes_partition(daily, fetch, tmp_path):
    daily.insert("daily", [{"day": datetime.date(2024, 1, 1), "n": 1, "tag": "a"}])
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"day": "2024-01-01", "n": 2, "tag": None}]))
    daily.insert("daily", path)
    with pytest.raises(BigflowError, match="row outside partition 2024-01-01"):
        daily.insert("daily", [{"day": "2024-01-01", "n": 3, "tag": "kept out"},
                               {"day": "2024-01-09", "n": 4, "tag": "outside"}])
    assert fetch(daily, "SELECT day, n, tag FROM {daily} ORDER BY n") == [("2024-01-01", 1, "a"),
                                                                          ("2024-01-01", 2, None)]
    assert daily.collect_list(f"SELECT table_name FROM `{daily.dataset_id}.INFORMATION_SCHEMA.TABLES` "
                              "WHERE STARTS_WITH(table_name, '_bigflow_stage_')") == []


def test_load_table_from_dataframe_appends_through_a_resumable_load(daily, fetch):
    frame = pd.DataFrame({"day": [datetime.date(2024, 1, 1)] * 2, "n": [5, 6], "tag": ["x", "y"]})
    daily.load_table_from_dataframe("daily", frame)
    daily.load_table_from_dataframe("daily", frame.iloc[:1], partitioned=False)
    assert fetch(daily, "SELECT n, tag FROM {daily} ORDER BY n") == [(5, "x"), (5, "x"), (6, "y")]


def test_load_into_a_missing_table_is_an_error(make_manager):
    with pytest.raises(BigflowError, match="the table does not exist"):
        make_manager().load_table_from_dataframe("daily", pd.DataFrame({"n": [1]}))


def test_delete_dataset(daily):
    daily.delete_dataset()
    from google.api_core.exceptions import NotFound

    with pytest.raises(NotFound):
        daily.client.get_dataset(daily.dataset_id)
    daily.delete_dataset()  # already gone: no error


def test_dataset_location_and_labels_are_applied(make_manager, bq_settings):
    from dataclasses import replace

    manager = make_manager(dataset_labels={"team": "data"}, tables_labels={"daily": {"layer": "gold"}},
                           location="europe-west1")
    manager.create_table_from_schema("daily", SCHEMA, partition_column="day")
    manager.write_truncate("daily", "SELECT DATE('{dt}') AS day, 1 AS n, 'a' AS tag")
    dataset = manager.client.get_dataset(manager.dataset_id)
    assert (dataset.location, dataset.labels) == ("europe-west1", {"team": "data"})
    assert manager.client.get_table(manager.internal_tables["daily"]).labels == {"layer": "gold"}
    other = make_manager(dataset_labels=None)
    other.settings = replace(bq_settings, location="US")
    assert other.spec.location is None and other.settings.location == "US"


def test_job_labels_go_on_query_jobs(make_manager):
    """The emulator does not keep job labels: check the job request the plugin sent."""
    job = make_manager(job_labels={"owner": "etl"}).execute_sql("SELECT 1 AS a")
    assert job.labels == {"owner": "etl"} and job.state == "DONE"
    assert make_manager().execute_sql("SELECT 1 AS a").labels == {}
