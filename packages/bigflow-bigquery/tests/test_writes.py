"""Each write mode's resulting rows on the emulator, and failed writes leaving the previous rows intact."""

from __future__ import annotations

import pytest

from bigflow.errors import BigflowError
from bigflow_bigquery.errors import BigQuerySqlError

EVENTS = """
SELECT DATE '2024-01-01' AS day, TIMESTAMP '2024-01-01 10:15:00' AS ts, 'a' AS kind, 1 AS n UNION ALL
SELECT DATE '2024-01-01', TIMESTAMP '2024-01-01 11:30:00', 'b', 2 UNION ALL
SELECT DATE '2024-01-02', TIMESTAMP '2024-01-02 10:45:00', 'a', 4 UNION ALL
SELECT DATE '2024-01-02', TIMESTAMP '2024-01-02 10:50:00', 'b', 8
"""
DAILY = "SELECT day, SUM(n) AS n FROM {events} WHERE day = DATE('{dt}') GROUP BY day"
HOURLY = ("SELECT TIMESTAMP_TRUNC(ts, HOUR) AS hour, SUM(n) AS n FROM {events} "
          "WHERE TIMESTAMP_TRUNC(ts, HOUR) = TIMESTAMP('{dt}') GROUP BY hour")


@pytest.fixture
def tables(make_manager):
    manager = make_manager()
    manager.write_tmp("events", EVENTS)
    manager.create_table_from_schema("daily", [{"name": "day", "type": "DATE"}, {"name": "n", "type": "INT64"}],
                                     partition_column="day")
    manager.create_table_from_schema("hourly", [{"name": "hour", "type": "TIMESTAMP"},
                                                {"name": "n", "type": "INT64"}],
                                     partition_type="HOUR", partition_column="hour")
    manager.create_table_from_schema("totals", [{"name": "kind", "type": "STRING"}, {"name": "n", "type": "INT64"}],
                                     partition_type=None)
    return manager


def test_write_truncate_daily_replaces_only_the_runtimes_partition(tables, make_manager, fetch):
    make_manager("2024-01-01").write_truncate("daily", DAILY)
    make_manager("2024-01-02").write_truncate("daily", DAILY)
    make_manager("2024-01-01").write_truncate("daily", DAILY.replace("SUM(n)", "SUM(n) * 10"))
    assert fetch(tables, "SELECT day, n FROM {daily} ORDER BY day") == [("2024-01-01", 30), ("2024-01-02", 12)]


def test_write_truncate_hourly_uses_the_tables_hourly_partitions(tables, make_manager, fetch):
    make_manager("2024-01-01 10:00:00").write_truncate("hourly", HOURLY)
    make_manager("2024-01-01 11:00:00").write_truncate("hourly", HOURLY)
    make_manager("2024-01-02 10:00:00").write_truncate("hourly", HOURLY)
    make_manager("2024-01-01 10:00:00").write_truncate("hourly", HOURLY.replace("SUM(n)", "SUM(n) + 100"))
    assert fetch(tables, "SELECT hour, n FROM {hourly} ORDER BY hour") == [
        ("2024-01-01 10:00:00", 101), ("2024-01-01 11:00:00", 2), ("2024-01-02 10:00:00", 12)]


def test_partition_type_per_operation_hourly_write_into_a_daily_timestamp_table(tables, fetch):
    """A DAY-partitioned TIMESTAMP table written one hour at a time: each write replaces only its hour."""
    tables.create_table_from_schema("by_day", [{"name": "hour", "type": "TIMESTAMP"}, {"name": "n", "type": "INT64"}],
                                    partition_type="DAY", partition_column="hour")
    for runtime, n in (("2024-01-01 10:00:00", 1), ("2024-01-01 11:00:00", 2), ("2024-01-01 10:00:00", 3)):
        tables.write_truncate("by_day", f"SELECT TIMESTAMP('{{dt}}') AS hour, {n} AS n",
                              custom_run_datetime=runtime, partition_type="HOUR")
    assert fetch(tables, "SELECT hour, n FROM {by_day} ORDER BY hour") == [
        ("2024-01-01 10:00:00", 3), ("2024-01-01 11:00:00", 2)]


def test_write_append_adds_rows_to_the_partition(tables, make_manager, fetch):
    make_manager("2024-01-01").write_append("daily", DAILY)
    make_manager("2024-01-01").write_append("daily", DAILY)
    make_manager("2024-01-02").write_append("daily", DAILY)
    assert fetch(tables, "SELECT day, n FROM {daily} ORDER BY day, n") == [
        ("2024-01-01", 3), ("2024-01-01", 3), ("2024-01-02", 12)]


def test_unpartitioned_truncate_and_append(tables, fetch):
    totals = "SELECT kind, SUM(n) AS n FROM {events} GROUP BY kind"
    tables.write_append("totals", totals, partitioned=False)
    tables.write_append("totals", totals, partitioned=False)
    assert len(fetch(tables, "SELECT * FROM {totals}")) == 4
    tables.write_truncate("totals", totals, partitioned=False)
    assert fetch(tables, "SELECT kind, n FROM {totals} ORDER BY kind") == [("a", 5), ("b", 10)]


def test_write_tmp_creates_or_replaces_a_table_with_the_querys_schema(tables, fetch):
    tables.write_tmp("scratch", "SELECT 1 AS x")
    tables.write_tmp("scratch", "SELECT 'one' AS word, 2 AS y")
    assert fetch(tables, "SELECT * FROM {scratch}") == [("one", 2)]
    assert [f.name for f in tables.client.get_table(tables.internal_tables["scratch"]).schema] == ["word", "y"]


def test_write_empty_refuses_a_partition_with_rows(tables, fetch):
    tables.write("empty", "daily", DAILY, partitioned=True)
    with pytest.raises(BigflowError, match="partition 2024-01-01 of .*daily already has rows"):
        tables.write("empty", "daily", DAILY.replace("SUM(n)", "SUM(n) * 10"), partitioned=True)
    assert fetch(tables, "SELECT day, n FROM {daily}") == [("2024-01-01", 3)]


def test_1x_partition_decorator_names_a_partition(tables, fetch):
    tables.write_truncate("daily$20240102", "SELECT DATE '2024-01-02' AS day, 7 AS n", partitioned=False)
    tables.write_truncate("daily$20240102", "SELECT DATE '2024-01-02' AS day, 9 AS n", partitioned=False)
    assert fetch(tables, "SELECT day, n FROM {daily}") == [("2024-01-02", 9)]


def test_columns_are_matched_by_name_not_position(tables, fetch):
    tables.write_truncate("daily", "SELECT 5 AS n, DATE('{dt}') AS day")
    assert fetch(tables, "SELECT day, n FROM {daily}") == [("2024-01-01", 5)]


def test_a_row_outside_the_partition_fails_the_write_and_keeps_the_partition(tables, fetch):
    tables.write_truncate("daily", DAILY)
    with pytest.raises(BigQuerySqlError, match=r"row outside partition 2024-01-01 of .*daily: day=2024-01-05"):
        tables.write_truncate("daily", "SELECT DATE('{dt}') AS day, 1 AS n UNION ALL SELECT DATE '2024-01-05', 2")
    assert fetch(tables, "SELECT day, n FROM {daily}") == [("2024-01-01", 3)]


def test_a_failing_query_leaves_the_previous_partition_intact(tables, fetch):
    tables.write_truncate("daily", DAILY)
    with pytest.raises(BigQuerySqlError) as failure:
        tables.write_truncate("daily", "SELECT day,\n  SUM(n) AS n\nFROM {events}\nWHERE nope = 1\nGROUP BY day")
    assert failure.value.line == 4
    assert "at line 4 ('WHERE nope = 1')" in str(failure.value)
    assert fetch(tables, "SELECT day, n FROM {daily}") == [("2024-01-01", 3)]


def test_syntax_error_points_at_the_users_line(tables):
    with pytest.raises(BigQuerySqlError) as failure:
        tables.write_truncate("daily", "SELECT day,\n  n\nFROM\nWHERE x = 1")
    assert failure.value.line == 4
    assert str(failure.value).startswith("write_truncate to test-project.")
    assert "\n" not in str(failure.value)


def test_missing_table_and_dataset_for_append(tables, make_manager):
    with pytest.raises(BigflowError, match=r"cannot write_append to .*\.nosuch: the table does not exist; "
                                           r"create it first"):
        tables.write_append("nosuch", "SELECT 1 AS n")
    with pytest.raises(BigflowError, match=r"dataset test-project\.no_such_dataset does not exist"):
        tables.write_append("no_such_dataset.t", "SELECT 1 AS n", partitioned=False)


def test_partitioned_write_to_an_unpartitioned_table_says_so(tables):
    with pytest.raises(BigflowError, match="not partitioned by time; pass partitioned=False"):
        tables.write_truncate("totals", "SELECT 'a' AS kind, 1 AS n")


def test_hourly_partition_of_a_date_column_is_refused(tables):
    with pytest.raises(BigflowError, match="has no hourly partitions"):
        tables.write_truncate("daily", DAILY, partition_type="HOUR")


def test_ingestion_time_partitioning_is_refused_on_the_emulator_with_the_fix(tables):
    tables.create_table_from_schema("ingested", [{"name": "n", "type": "INT64"}])
    with pytest.raises(BigflowError, match=r"partitioned by ingestion time.*partition_column="):
        tables.write_truncate("ingested", "SELECT 1 AS n")
    tables.write_truncate("ingested", "SELECT 1 AS n", partitioned=False)


@pytest.mark.parametrize("decorator", ["20241301", "20240230", "2024010124", "202401011", "2024x1", "", "99999"])
def test_bad_partition_decorator_is_one_line_error_naming_table_and_partition(decorator, make_manager):
    from bigflow_bigquery import BigQueryJob, DatasetConfig

    manager = make_manager()
    expected = (rf"^invalid partition '{decorator}' of table 'orders' in 'orders\${decorator}': expected table\$YYYY, "
                r"table\$YYYYMM, table\$YYYYMMDD or table\$YYYYMMDDHH naming a real date and hour$")
    with pytest.raises(BigflowError, match=expected):
        manager.write_truncate(f"orders${decorator}", "SELECT 1 AS n", partitioned=False)
    with pytest.raises(BigflowError, match=expected):
        manager.insert(f"orders${decorator}", [{"n": 1}])
    with pytest.raises(BigflowError, match=expected):
        BigQueryJob("daily", sql="SELECT 1 AS n", destination=f"orders${decorator}",
                    dataset=DatasetConfig(env=None, project_id="test-project", dataset_name="d"))
