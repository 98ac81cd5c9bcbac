"""``BigQueryJob`` (job type ``bigquery``): SQL or a .sql file, templated, written per mode and partition."""

from __future__ import annotations

import pytest

from bigflow.errors import BigflowError
from bigflow.plugins import job_type
from bigflow_bigquery import BigQueryJob, DatasetConfig
from bigflow_bigquery.errors import BigQuerySqlError


@pytest.fixture
def dataset(dataset_name):
    return DatasetConfig(None, "test-project", dataset_name, internal_tables=["events", "daily"],
                         properties={"min_n": 1})


@pytest.fixture
def events(dataset, job_context):
    BigQueryJob("events", sql="""CREATE TABLE {events} AS
        SELECT DATE '2024-01-01' AS day, 1 AS n UNION ALL SELECT DATE '2024-01-01', 2
        UNION ALL SELECT DATE '2024-01-02', 4""", dataset=dataset).execute(job_context())
    return dataset


def test_registered_as_job_type_bigquery(bigflow_host):
    assert job_type("bigquery") is BigQueryJob


def test_sql_file_relative_to_the_module_truncates_its_partition(events, tmp_path, job_context, make_manager, fetch):
    sql = tmp_path / "sql" / "daily.sql"
    sql.parent.mkdir()
    sql.write_text("-- daily sums\nSELECT day, SUM(n) AS n\nFROM {events}\nWHERE day = DATE('{dt}') AND n >= {min_n}\n"
                   "GROUP BY day\n")
    job = BigQueryJob("daily", sql_file=sql, destination="daily", partition="day", partition_column="day",
                      dataset=events)
    job.execute(job_context("2024-01-01"))
    job.execute(job_context("2024-01-02"))
    sql.write_text(sql.read_text().replace("SUM(n)", "SUM(n) * 10"))
    job.execute(job_context("2024-01-02"))
    manager = make_manager()
    assert fetch(manager, "SELECT day, n FROM {daily} ORDER BY day") == [("2024-01-01", 3), ("2024-01-02", 40)]
    table = manager.client.get_table(manager.internal_tables["daily"])
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("DAY", "day")


def test_whole_table_modes(events, job_context, make_manager, fetch):
    totals = "SELECT COUNT(*) AS rows_seen FROM {events}"
    BigQueryJob("t", sql=totals, destination="totals", write="truncate", dataset=events).execute(job_context())
    BigQueryJob("a", sql=totals, destination="totals", write="append", dataset=events).execute(job_context())
    assert fetch(make_manager(), "SELECT rows_seen FROM {totals}".replace("{totals}", "`test-project."
                 f"{events.resolve_dataset_name()}.totals`")) == [(3,), (3,)]
    BigQueryJob("e", sql=totals, destination="fresh", write="empty", dataset=events).execute(job_context())
    with pytest.raises(BigflowError, match=r"table test-project\..*\.fresh already has rows and write=empty"):
        BigQueryJob("e", sql=totals, destination="fresh", write="empty", dataset=events).execute(job_context())


def test_append_needs_an_existing_table(events, job_context):
    with pytest.raises(BigflowError, match=r"cannot write_append to .*\.missing: the table does not exist"):
        BigQueryJob("a", sql="SELECT 1 AS n", destination="missing", write="append",
                    dataset=events).execute(job_context())


def test_destination_in_another_dataset_without_a_dataset_config(job_context, dataset_name, make_manager, fetch):
    BigQueryJob("d", sql="SELECT '{dt}' AS dt", destination=f"{dataset_name}.stamps").execute(job_context())
    assert fetch(make_manager(), f"SELECT dt FROM `test-project.{dataset_name}.stamps`") == [("2024-01-01 00:00:00",)]


def test_invalid_sql_in_a_file_names_the_job_file_and_line(events, tmp_path, job_context):
    sql = tmp_path / "bad.sql"
    sql.write_text("SELECT day,\n  n\nFROM {events}\nWHERE n > nope\n")
    job = BigQueryJob("bad", sql_file=sql, destination="daily", dataset=events)
    with pytest.raises(BigQuerySqlError, match=r"^BigQuery job 'bad' \(bad.sql\) failed at line 4 "
                                               r"\('WHERE n > nope'\): .*nope"):
        job.execute(job_context())


def test_bad_definitions_are_one_line_errors(tmp_path, events):
    with pytest.raises(BigflowError, match="give exactly one of sql or sql_file"):
        BigQueryJob("x")
    with pytest.raises(BigflowError, match=r"sql_file 'nope.sql' not found \(looked for .*tests/nope.sql\)"):
        BigQueryJob("x", sql_file="nope.sql")
    with pytest.raises(BigflowError, match="write must be one of truncate, append, empty, got 'replace'"):
        BigQueryJob("x", sql="SELECT 1", destination="t", write="replace")
    with pytest.raises(BigflowError, match="invalid partition type 'DAILY'"):
        BigQueryJob("x", sql="SELECT 1", destination="t", partition="DAILY")
    with pytest.raises(BigflowError, match="need a destination"):
        BigQueryJob("x", sql="SELECT 1", partition="DAY")
    with pytest.raises(BigflowError, match=r"^BigQueryJob 'x': partition_column='day' needs partition= \(DAY, HOUR, "
                                           r"MONTH or YEAR\), the unit its partitions are cut by$"):
        BigQueryJob("x", sql="SELECT 1", destination="t", partition_column="day", dataset=events)  # was ignored
    with pytest.raises(BigflowError, match=r"give dataset=\.\.\. \(a DatasetConfig\) or a destination 'dataset\.table'"):
        BigQueryJob("x", sql="SELECT 1", destination="t")  # 1.x-era code made a dataset named 'None' here


def test_new_partitioned_table_needs_a_column_on_the_emulator(events, job_context, make_manager):
    job = BigQueryJob("x", sql="SELECT 1 AS n", destination="ingested", partition="DAY", dataset=events)
    with pytest.raises(BigflowError, match="emulator does not keep _PARTITIONTIME; give a partition column"):
        job.execute(job_context())
    assert not make_manager().table_exists("ingested")
