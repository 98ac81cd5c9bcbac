"""The exact statements sent to BigQuery (including what the emulator cannot run), templating and error lines."""

from __future__ import annotations

from datetime import datetime

import pytest

from bigflow.errors import BigflowError
from bigflow.runtimes import parse as parse_runtime
from bigflow_bigquery import statements
from bigflow_bigquery.errors import AliasNotFoundError, locate, sql_error
from bigflow_bigquery.partitions import Window
from bigflow_bigquery.statements import Target
from bigflow_bigquery.templating import render

INGESTED = Target("p.d.t", ("a", "b"), partition_type="DAY")
HOURLY = Target("p.d.h", ("at", "n"), partition_type="HOUR", partition_field="at", field_type="DATETIME")


def test_truncate_of_an_ingestion_time_partition_on_bigquery():
    statement = statements.write_truncate(INGESTED, "SELECT 1 AS a, 2 AS b;\n", Window.of(datetime(2024, 1, 2), "DAY"))
    assert statement.sql == (
        "BEGIN TRANSACTION;\n"
        "DELETE FROM `p.d.t` WHERE _PARTITIONTIME = TIMESTAMP '2024-01-02 00:00:00';\n"
        "INSERT INTO `p.d.t` (_PARTITIONTIME, `a`, `b`)\n"
        "SELECT TIMESTAMP '2024-01-02 00:00:00', _bigflow_rows.`a`, _bigflow_rows.`b` FROM (\n"
        "SELECT 1 AS a, 2 AS b\n"
        ") AS _bigflow_rows;\n"
        "COMMIT TRANSACTION;")
    assert (statement.first_user_line, statement.statement_line) == (5, 3)


def test_hourly_window_on_a_datetime_column_is_checked_row_by_row():
    statement = statements.write_append(HOURLY, "SELECT *\nFROM src", Window.of(datetime(2024, 1, 2, 7, 30), "HOUR"))
    predicate = ("_bigflow_rows.`at` >= DATETIME '2024-01-02 07:00:00' AND "
                 "_bigflow_rows.`at` < DATETIME '2024-01-02 08:00:00'")
    assert statement.sql.endswith(
        f") AS _bigflow_rows\nWHERE IF({predicate}, TRUE, ERROR(CONCAT('row outside partition 2024-01-02 07:00 "
        "of p.d.h: at=', IFNULL(CAST(_bigflow_rows.`at` AS STRING), 'NULL'))))")


def test_ingestion_time_units_must_match():
    with pytest.raises(BigflowError, match="a HOUR partition cannot be written; use partition_type='DAY'"):
        statements.write_truncate(INGESTED, "SELECT 1", Window.of(datetime(2024, 1, 1), "HOUR"))


def test_windows_and_partition_ids():
    assert Window.of(datetime(2024, 12, 31, 23, 59), "MONTH") == Window("MONTH", datetime(2024, 12, 1),
                                                                         datetime(2025, 1, 1))
    assert Window.of(datetime(2024, 5, 6, 7), "HOUR").partition_id == "2024050607"
    assert Window.of(datetime(2024, 5, 6), "YEAR").partition_id == "2024"
    assert parse_runtime("2024-05-06 07:08") == datetime(2024, 5, 6, 7, 8)
    with pytest.raises(BigflowError, match="runtime is '06/05/2024', not a time"):
        parse_runtime("06/05/2024")


def test_aliases_are_quoted_outside_quotes_and_comments_only():
    tables = {"t": "my-proj.ds.t"}
    sql = "SELECT '{t}', \"{t}\" FROM {t} JOIN `{t}` -- {t}\n/* {t} */ WHERE x = '{dt}'"
    assert render(sql, {"dt": "2024-01-01"}, tables, what="q") == (
        "SELECT 'my-proj.ds.t', \"my-proj.ds.t\" FROM `my-proj.ds.t` JOIN `my-proj.ds.t` -- my-proj.ds.t\n"
        "/* my-proj.ds.t */ WHERE x = '2024-01-01'")
    assert render("SELECT 'it''s', {t}", {}, tables, what="q") == "SELECT 'it''s', `my-proj.ds.t`"


def test_template_errors():
    with pytest.raises(AliasNotFoundError, match=r"unknown table alias 't\.x'"):
        render("SELECT {t.x}", {}, {"t": "p.d.t"}, what="q")
    with pytest.raises(AliasNotFoundError, match="invalid template in the SQL of q: Single '}'"):
        render("SELECT }", {}, {}, what="q")


def test_error_lines_from_bigquery_and_the_emulator():
    sql = "SELECT a,\n  b\nFROM t\nWHERE nope = 1"
    assert locate('Syntax error: Unexpected identifier "FROM" at [7:1]', sql, first_sql_line=5) == 3
    assert locate("Unrecognized name: nope at [8:7]", sql, first_sql_line=5) == 4
    assert locate('Binder Error: Referenced column "nope" not found in FROM clause!', sql, 1) == 4
    assert locate("something else", sql, 1) is None

    class BadRequest(Exception):
        errors = [{"message": "Syntax error: Unexpected end of script at [6:6]"}]

    error = sql_error(BadRequest(), what="write_truncate to p.d.t", sql=sql, first_sql_line=5)
    assert str(error) == ("write_truncate to p.d.t failed at line 2 ('b'): Syntax error: Unexpected end of "
                          "script")
