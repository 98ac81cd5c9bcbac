"""The SQL the plugin sends for each write mode: the same statements on BigQuery and on the emulator.

Writes never use query-job destinations or ``table$YYYYMMDD`` decorators (the emulator ignores both
silently). Instead:

- truncate a partition: ``BEGIN TRANSACTION; DELETE <partition>; INSERT ... SELECT; COMMIT`` (atomic: a failed
  query leaves the previous partition intact; deleting whole partitions is free on BigQuery);
- truncate a table: the same with ``DELETE ... WHERE TRUE`` (the table keeps its schema, options, labels);
- append: one ``INSERT ... SELECT``;
- empty: the transaction fails when the partition or table already has rows;
- a partitioned write checks every row against the runtime's partition inside the statement (``ERROR()``), as
  BigQuery does for decorator writes: a row outside it fails the whole write.

Every builder returns ``Statement(sql, first_user_line)`` so errors can point at the line of the user's SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bigflow.api import BigflowError
from bigflow_bigquery.partitions import Window

INGESTION_TIME = "_PARTITIONTIME"


@dataclass(frozen=True)
class Target:
    """What the plugin needs to know about a destination table."""

    table_id: str                      # project.dataset.table
    columns: tuple[str, ...]
    partition_type: str | None = None  # the table's own partitioning unit, None if not time-partitioned
    partition_field: str | None = None  # None with a partition_type: ingestion-time partitioning
    field_type: str | None = None      # DATE, TIMESTAMP or DATETIME

    @property
    def quoted(self) -> str:
        return f"`{self.table_id}`"


@dataclass(frozen=True)
class Statement:
    """SQL to submit, and the line where the user's SQL starts in it (1-based).

    ``statement_line`` counts from the start of the statement holding the user's SQL within a script: the
    emulator reports positions per statement, BigQuery per script.
    """

    sql: str
    first_user_line: int
    statement_line: int | None = None

    def user_line(self, emulated: bool) -> int:
        return self.statement_line if emulated and self.statement_line is not None else self.first_user_line


def clean(sql: str) -> str:
    """User SQL without surrounding blank space and trailing semicolons, to embed as a subquery."""
    return sql.strip().rstrip(";").rstrip()


def _literal(window_point, field_type: str) -> str:
    if field_type == "DATE":
        return f"DATE '{window_point:%Y-%m-%d}'"
    return f"{field_type} '{window_point:%Y-%m-%d %H:%M:%S}'"


def partition_predicate(target: Target, window: Window, column: str | None = None) -> str:
    """``column`` (default: the table's partitioning column) within ``window``."""
    if target.partition_type is None:
        raise BigflowError(f"table {target.table_id} is not partitioned by time: write it with partitioned=False "
                           "or create it with time partitioning")
    if target.partition_field is None:
        if window.unit != target.partition_type:
            raise BigflowError(
                f"table {target.table_id} is partitioned by ingestion time per {target.partition_type}: "
                f"a {window.unit} partition cannot be written; use partition_type='{target.partition_type}'"
            )
        return f"{column or INGESTION_TIME} = {_literal(window.start, 'TIMESTAMP')}"
    field_type = target.field_type or "TIMESTAMP"
    if field_type == "DATE" and window.unit == "HOUR":
        raise BigflowError(f"table {target.table_id} is partitioned by the DATE column {target.partition_field}: "
                           "it has no hourly partitions; use partition_type='DAY'")
    name = column or f"`{target.partition_field}`"
    return f"{name} >= {_literal(window.start, field_type)} AND {name} < {_literal(window.end, field_type)}"


def _guard(target: Target, window: Window) -> str:
    """A WHERE clause failing the statement on the first row outside ``window``."""
    column = f"_bigflow_rows.`{target.partition_field}`"
    message = (f"CONCAT('row outside partition {window} of {target.table_id}: {target.partition_field}=', "
               f"IFNULL(CAST({column} AS STRING), 'NULL'))")
    return f"WHERE IF({partition_predicate(target, window, column)}, TRUE, ERROR({message}))"


def insert_select(target: Target, sql: str, window: Window | None, columns: Sequence[str] | None = None) -> Statement:
    """``INSERT INTO target (columns) SELECT columns FROM (sql)``, into ``window`` when given."""
    names = list(columns or target.columns)
    listed = ", ".join(f"`{name}`" for name in names)
    selected = ", ".join(f"_bigflow_rows.`{name}`" for name in names)
    where = ""
    if window is not None:
        if target.partition_field is None:
            listed = f"{INGESTION_TIME}, {listed}"
            selected = f"{_literal(window.start, 'TIMESTAMP')}, {selected}"
            partition_predicate(target, window)  # validates the unit
        else:
            where = "\n" + _guard(target, window)
    head = f"INSERT INTO {target.quoted} ({listed})\nSELECT {selected} FROM (\n"
    return Statement(f"{head}{clean(sql)}\n) AS _bigflow_rows{where}", head.count("\n") + 1)


def _transaction(before: list[str], insert: Statement) -> Statement:
    head = "BEGIN TRANSACTION;\n" + "".join(f"{statement};\n" for statement in before)
    lines = head.count("\n")
    return Statement(f"{head}{insert.sql};\nCOMMIT TRANSACTION;", lines + insert.first_user_line,
                     insert.first_user_line)


def write_truncate(target: Target, sql: str, window: Window | None) -> Statement:
    """Replace the rows of ``window`` (or of the whole table) with the query's rows, atomically."""
    where = partition_predicate(target, window) if window is not None else "TRUE"
    return _transaction([f"DELETE FROM {target.quoted} WHERE {where}"], insert_select(target, sql, window))


def write_append(target: Target, sql: str, window: Window | None) -> Statement:
    """Add the query's rows (to ``window`` when given)."""
    return insert_select(target, sql, window)


def write_empty(target: Target, sql: str, window: Window | None) -> Statement:
    """Write the query's rows only if ``window`` (or the table) holds no rows yet."""
    where = partition_predicate(target, window) if window is not None else "TRUE"
    what = f"partition {window} of {target.table_id}" if window is not None else f"table {target.table_id}"
    check = (f"SELECT IF(EXISTS(SELECT 1 FROM {target.quoted} WHERE {where}), "
             f"ERROR('{what} already has rows and write=empty'), 0)")
    return _transaction([check], insert_select(target, sql, window))


def create_or_replace(table_id: str, sql: str) -> Statement:
    """1.x ``write_tmp``: a non-partitioned table replaced by the query's rows (schema from the query)."""
    head = f"CREATE OR REPLACE TABLE `{table_id}` AS\n"
    return Statement(f"{head}{clean(sql)}", 2)


def preview(sql: str, limit: int) -> Statement:
    """The query's first ``limit`` rows (``peek``)."""
    return Statement(f"SELECT * FROM (\n{clean(sql)}\n) LIMIT {int(limit)}", 2)


def has_rows(sql: str) -> Statement:
    """Whether the query returns rows (sensors)."""
    return Statement(f"SELECT EXISTS(\n{clean(sql)}\n) AS ready", 2)
