"""Dataset operations (the 1.x API): a ``DatasetManager`` runs them for one runtime against one engine.

``DatasetManager`` is what a component receives (1.x ``OperationLevelDatasetManager``); the lazy
``InteractiveDatasetManager`` returned by ``DatasetConfig.create_dataset_manager()`` wraps each call in an
``InteractiveComponent`` (``.run()``, ``.peek()``, ``.to_job()``).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigflow.api import BigflowError, runtimes
from bigflow_bigquery import engine, statements
from bigflow_bigquery.config import DatasetConfig, DatasetSpec
from bigflow_bigquery.errors import sql_error
from bigflow_bigquery.partitions import Window, split_decorator, unit
from bigflow_bigquery.settings import Settings
from bigflow_bigquery.statements import Statement, Target
from bigflow_bigquery.templating import render

if TYPE_CHECKING:
    import pandas
    from google.cloud import bigquery

    from bigflow_bigquery.interactive import InteractiveComponent

logger = logging.getLogger("bigflow.bigquery")

DEFAULT_OPERATION_NAME = "__auto"
DEFAULT_PEEK_LIMIT = 1000
STAGE_PREFIX = "_bigflow_stage_"
_BYTE_UNITS = {0: " B", 1: " KB", 2: " MB", 3: " GB", 4: " TB", 5: " PB"}

_ensured: set[tuple[str, str, str]] = set()
_ensured_lock = threading.Lock()


class DryRun(str):
    """1.x's dry-run sentence (``"This query will process X and cost Y."``) with the numbers as attributes."""

    bytes_processed: int
    cost_usd: float

    @classmethod
    def of(cls, bytes_processed: int, price_per_tib: float, emulated: bool) -> DryRun:
        size, power = float(bytes_processed), 0
        cost = round(bytes_processed / 2**40 * price_per_tib, 2)
        while size > 1024 and power < 5:
            size, power = size / 1024, power + 1
        note = " (the emulator does not estimate bytes)" if emulated else ""
        text = cls(f"This query will process {round(size, 2)}{_BYTE_UNITS[power]} and cost {cost} USD.{note}")
        text.bytes_processed, text.cost_usd = bytes_processed, cost
        return text


class DatasetManager:
    """Operations on one dataset for one runtime (what ``@component`` functions receive)."""

    def __init__(self, spec: DatasetSpec, settings: Settings, runtime: str | datetime | date, *,
                 operation_name: str | None = None, peek: bool = False,
                 peek_limit: int = DEFAULT_PEEK_LIMIT) -> None:
        self.spec = spec
        self.settings = settings
        self.runtime_str = runtimes.runtime_str(runtime)
        self.project_id: str = spec.project_id or settings.default_project or ""
        self.dataset_name = spec.dataset_name
        self.internal_tables: dict[str, str] = {t: self._table_id(t) for t in spec.internal_tables}
        self.external_tables: dict[str, str] = dict(spec.external_tables)
        self.extras: dict[str, Any] = dict(spec.extras)
        self.results: list[Any] = []
        self._operation_name = operation_name
        self._peek = peek
        self._peek_limit = peek_limit
        self._client: bigquery.Client | None = None

    # ------------------------------------------------------------------------------------------ 1.x attributes

    @property
    def dt(self) -> str:
        return self.runtime_str

    @property
    def dataset_id(self) -> str:
        return f"{self.project_id}.{self.dataset_name}"

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            if not self.project_id and not self.settings.uses_emulator:
                engine.credentials(self.settings)  # a missing login is the likelier problem: say so first
            self._client = engine.client(self.settings, self.project_id or None)
            if not self.project_id:
                self.project_id = self._client.project
                self.internal_tables = {t: self._table_id(t) for t in self.spec.internal_tables}
        return self._client

    # ------------------------------------------------------------------------------------------ operations

    def write_truncate(self, table_name: str, sql: str, partitioned: bool = True,
                       custom_run_datetime: str | None = None, operation_name: str | None = None,
                       partition_type: str | None = None) -> Any:
        """Replace the runtime's partition (or, with ``partitioned=False``, the table) with the query's rows."""
        return self._write("truncate", table_name, sql, partitioned, custom_run_datetime, operation_name,
                           partition_type)

    def write_append(self, table_name: str, sql: str, partitioned: bool = True,
                     custom_run_datetime: str | None = None, operation_name: str | None = None,
                     partition_type: str | None = None) -> Any:
        """Add the query's rows to the runtime's partition (or, with ``partitioned=False``, to the table)."""
        return self._write("append", table_name, sql, partitioned, custom_run_datetime, operation_name,
                           partition_type)

    def write_tmp(self, table_name: str, sql: str, custom_run_datetime: str | None = None,
                  operation_name: str | None = None) -> Any:
        """Create or replace a non-partitioned table from the query (schema from the query)."""
        self.internal_tables[table_name] = self._table_id(table_name)
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return self._skipped(operation_name, sql, custom_run_datetime)
        self.ensure_dataset()
        query = self.render(sql, f"write_tmp({table_name!r})", custom_run_datetime)
        table_id = self._table_id(table_name)
        logger.info("write_tmp %s", table_id)
        result = self._run(statements.create_or_replace(table_id, query), query, f"write_tmp to {table_id}")
        self._label_table(table_name, table_id)
        return result

    def write(self, mode: str, table_name: str, sql: str, *, partitioned: bool = False,
              partition_type: str | None = None, custom_run_datetime: str | None = None,
              create_partition_column: str | None = None, create_missing: bool = False,
              what: str | None = None) -> Any:
        """Write the query's rows with ``mode`` ``truncate``, ``append`` or ``empty``.

        ``partitioned`` writes the runtime's partition: per ``partition_type``, else per the table's own
        partitioning; otherwise the whole table (or the partition of a 1.x ``table$YYYYMMDD`` name).
        ``create_missing`` creates a missing table from the query's schema first, partitioned per
        ``partition_type`` by ``create_partition_column`` (``BigQueryJob``).
        """
        self.ensure_dataset()
        query = self.render(sql, what or f"write_{mode}({table_name!r})", custom_run_datetime)
        table_id, window = self._destination(table_name, partitioned, partition_type, custom_run_datetime)
        target = target_of(self._table(table_id, mode, query if create_missing else None, partition_type,
                                       create_partition_column, what=what))
        window = self._window(window, target, mode)
        builder = {"truncate": statements.write_truncate, "append": statements.write_append,
                   "empty": statements.write_empty}[mode]
        logger.info("write_%s %s%s", mode, table_id, f" partition {window}" if window else "")
        label = what or f"write_{mode} to {table_id}" + (f" (partition {window})" if window else "")
        result = self._run(builder(target, query, window), query, label)
        self._label_table(table_name, table_id)
        return result

    def query(self, sql: str, custom_run_datetime: str | None = None, what: str = "query") -> Any:
        """Run a templated statement (DDL, DML, a script) and return its rows."""
        self.ensure_dataset()
        statement = self.render(sql, what, custom_run_datetime)
        return self._run(Statement(statement, 1), statement, what)

    def execute_sql(self, sql: str, *, what: str = "query", dry_run: bool = False) -> bigquery.QueryJob:
        """Run SQL as given (no templating, no dataset created) and return the finished job."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False) if dry_run else None
        return self._submit(Statement(sql, 1), sql, what, config)

    def dry_run_report(self, job: bigquery.QueryJob) -> DryRun:
        return DryRun.of(int(job.total_bytes_processed or 0), self.settings.price_per_tib, self.settings.uses_emulator)

    def collect(self, sql: str, custom_run_datetime: str | None = None,
                operation_name: str | None = None) -> pandas.DataFrame:
        """The query's rows as a ``pandas.DataFrame``."""
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return self._skipped(operation_name, sql, custom_run_datetime)
        query = self.render(sql, "collect", custom_run_datetime)
        return self._dataframe(Statement(query, 1), query, "collect")

    def collect_list(self, sql: str, custom_run_datetime: str | None = None, operation_name: str | None = None,
                     record_as_dict: bool = False) -> list[Any]:
        """The query's rows as a list of ``Row`` (or of dicts with ``record_as_dict``)."""
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return self._skipped(operation_name, sql, custom_run_datetime)
        query = self.render(sql, "collect_list", custom_run_datetime)
        rows = list(self._run(Statement(query, 1), query, "collect_list"))
        return [dict(row) for row in rows] if record_as_dict else rows

    def dry_run(self, sql: str, custom_run_datetime: str | None = None, operation_name: str | None = None) -> str:
        """Bytes the query would process and their cost at ``bigquery_price_per_tib`` (no data read)."""
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return self._skipped(operation_name, sql, custom_run_datetime)
        query = self.render(sql, "dry_run", custom_run_datetime)
        return self.dry_run_report(self.execute_sql(query, what="dry_run", dry_run=True))

    def create_table(self, create_query: str, operation_name: str | None = None) -> Any:
        """Run DDL with this dataset as the default one (1.x: no templating)."""
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return None
        from google.cloud import bigquery

        self.ensure_dataset()
        config = bigquery.QueryJobConfig(default_dataset=self.dataset_id)
        return self._submit(Statement(create_query, 1), create_query, "create_table", config).result()

    def create_table_from_schema(self, table_name: str, schema: list[dict] | Path | None = None,
                                 table: bigquery.Table | None = None, partition_type: str | None = "DAY",
                                 partition_column: str | None = None, operation_name: str | None = None) -> Any:
        """Create a table (if missing) from a schema (list of field dicts or a JSON file) or a ``Table``.

        Partitioned per ``partition_type`` (None: not partitioned) by ``partition_column``, or by ingestion
        time when no column is given (1.x's default).
        """
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return None
        from google.cloud import bigquery

        if (schema is None) == (table is None):
            raise BigflowError(f"create_table_from_schema({table_name!r}): give either schema or table")
        if table is None:
            if isinstance(schema, Path):
                schema = json.loads(schema.read_text())
            table = bigquery.Table(self._table_id(table_name), schema=[
                field if isinstance(field, bigquery.SchemaField) else bigquery.SchemaField.from_api_repr(field)
                for field in schema or []
            ])
            if partition_type is not None:
                table.time_partitioning = bigquery.TimePartitioning(type_=unit(partition_type), field=partition_column)
        self.ensure_dataset()
        labels = self.spec.tables_labels.get(table_name)
        if labels:
            table.labels = dict(labels)
        return self._call(lambda: self.client.create_table(table, exists_ok=True),
                          f"create_table_from_schema({table_name!r})")

    def insert(self, table_name: str, records: list[dict] | Path, partitioned: bool = True,
               custom_run_datetime: str | None = None, operation_name: str | None = None) -> Any:
        """Add records (dicts, or a JSON file holding a list of them) to the runtime's partition or the table."""
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return None
        if isinstance(records, Path):
            records = json.loads(records.read_text())
        lines = "\n".join(json.dumps(record, default=_json_value) for record in records).encode()
        return self._load(table_name, partitioned, custom_run_datetime, "insert", lines, "NEWLINE_DELIMITED_JSON")

    def load_table_from_dataframe(self, table_name: str, df: pandas.DataFrame, partitioned: bool = True,
                                  custom_run_datetime: str | None = None, operation_name: str | None = None) -> Any:
        """Add a DataFrame's rows to the runtime's partition or the table (a resumable Parquet load)."""
        if self._peeking(operation_name):
            self.results.append(df)
            return df
        if not self._should_run(operation_name):
            return None
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        return self._load(table_name, partitioned, custom_run_datetime, "load_table_from_dataframe",
                          buffer.getvalue(), "PARQUET")

    def delete_dataset(self, operation_name: str | None = None) -> None:
        """Delete the dataset and its tables (no error when it does not exist); never while peeking, and in a run
        of one operation only when it is that operation (1.x)."""
        if not self._should_run(operation_name) or self._peek:
            return
        self._call(lambda: self.client.delete_dataset(self.dataset_id, delete_contents=True, not_found_ok=True),
                   f"delete_dataset({self.dataset_id!r})")
        with _ensured_lock:
            _ensured.discard(self._dataset_key)

    remove_dataset = delete_dataset

    def table_exists(self, table_name: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(self._table_id(table_name))
        except NotFound:
            return False
        return True

    # ------------------------------------------------------------------------------------------ templating, ids

    def template_variables(self, custom_run_datetime: str | None = None) -> dict[str, Any]:
        return {**self.extras, "dt": runtimes.runtime_str(custom_run_datetime) if custom_run_datetime else self.runtime_str}

    def tables(self) -> dict[str, str]:
        self.client  # noqa: B018 - resolves the project id when it comes from the credentials
        return {**self.internal_tables, **self.external_tables}

    def render(self, sql: str, what: str, custom_run_datetime: str | None = None) -> str:
        """``sql`` with table aliases, properties and ``{dt}`` filled in (a one-line error on an unknown one)."""
        return render(sql, self.template_variables(custom_run_datetime), self.tables(), what=what)

    def _table_id(self, name: str) -> str:
        if name in getattr(self, "internal_tables", {}):
            return self.internal_tables[name]
        if name in getattr(self, "external_tables", {}):
            return self.external_tables[name]
        parts = name.split(".")
        if len(parts) == 1:
            return f"{self.project_id}.{self.dataset_name}.{name}"
        if len(parts) == 2:
            return f"{self.project_id}.{name}"
        return name

    def _destination(self, table_name: str, partitioned: bool, partition_type: str | None,
                     custom_run_datetime: str | None) -> tuple[str, Window | tuple[datetime, str | None] | None]:
        """The table id and the partition to write: a ``Window``, ``(runtime, unit or None)`` or None."""
        table_name, decorated = split_decorator(table_name)
        if decorated:  # 1.x 'table$YYYYMMDD': that partition, whatever the runtime
            return self._table_id(table_name), decorated
        if not partitioned:
            return self._table_id(table_name), None
        runtime = runtimes.parse(custom_run_datetime or self.runtime_str)
        return self._table_id(table_name), (runtime, unit(partition_type) if partition_type else None)

    def _window(self, window: Window | tuple[datetime, str | None] | None, target: Target,
                mode: str) -> Window | None:
        """The partition window, in the table's own unit when none was asked for."""
        if isinstance(window, tuple):
            runtime, unit_name = window
            unit_name = unit_name or target.partition_type
            if unit_name is None:
                raise BigflowError(f"cannot write_{mode} a partition of {target.table_id}: the table is not "
                                   "partitioned by time; pass partitioned=False")
            window = Window.of(runtime, unit_name)
        if window is not None and target.partition_field is None and self.settings.uses_emulator:
            raise BigflowError(
                f"table {target.table_id} is partitioned by ingestion time, which the BigQuery emulator does not "
                "keep (it has no _PARTITIONTIME): partition it by a column, e.g. create_table_from_schema(..., "
                "partition_column='day'), or write it with partitioned=False"
            )
        return window

    # ------------------------------------------------------------------------------------------ engine calls

    @property
    def _dataset_key(self) -> tuple[str, str, str]:
        return (self.settings.endpoint, self.project_id, self.dataset_name)

    def ensure_dataset(self) -> None:
        """Create the dataset when missing (in ``location``) and set its labels, once per process (1.x)."""
        self.client  # noqa: B018
        with _ensured_lock:
            if self._dataset_key in _ensured:
                return
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        def ensure() -> None:
            try:
                dataset = self.client.get_dataset(self.dataset_id)
            except NotFound:
                dataset = bigquery.Dataset(self.dataset_id)
                dataset.location = self.spec.location or self.settings.location
                dataset.labels = dict(self.spec.dataset_labels)
                self.client.create_dataset(dataset, exists_ok=True)
                return
            if self.spec.dataset_labels and dict(dataset.labels or {}) != dict(self.spec.dataset_labels):
                dataset.labels = {**{k: None for k in dataset.labels or {}}, **self.spec.dataset_labels}
                self.client.update_dataset(dataset, ["labels"])

        self._call(ensure, f"create dataset {self.dataset_id}")
        with _ensured_lock:
            _ensured.add(self._dataset_key)

    def _label_table(self, table_name: str, table_id: str) -> None:
        labels = self.spec.tables_labels.get(table_name)
        if not labels:
            return
        table = self.client.get_table(table_id)
        if any((table.labels or {}).get(k) != v for k, v in labels.items()):
            table.labels = {**(table.labels or {}), **labels}
            self._call(lambda: self.client.update_table(table, ["labels"]), f"label table {table_id}")

    def _table(self, table_id: str, mode: str, create_from: str | None = None, partition_type: str | None = None,
               partition_column: str | None = None, what: str | None = None) -> bigquery.Table:
        """The destination table; missing, it is an error, or created from ``create_from``'s schema (jobs)."""
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        try:
            return self.client.get_table(table_id)
        except NotFound:
            if create_from is None:
                raise self._missing(table_id, mode) from None
        if partition_type is not None and partition_column is None and self.settings.uses_emulator:
            raise BigflowError(f"cannot create {table_id} partitioned by ingestion time: the BigQuery emulator "
                               "does not keep _PARTITIONTIME; give a partition column (partition_column=...)")
        job = self._submit(Statement(create_from, 1), create_from, what or f"write_{mode} to {table_id}",
                           bigquery.QueryJobConfig(dry_run=True, use_query_cache=False))
        table = bigquery.Table(table_id, schema=job.schema)
        if partition_type is not None:
            table.time_partitioning = bigquery.TimePartitioning(type_=unit(partition_type), field=partition_column)
        logger.info("creating %s", table_id)
        return self._call(lambda: self.client.create_table(table, exists_ok=True), f"create table {table_id}")

    def _missing(self, table_id: str, mode: str) -> BigflowError:
        from google.api_core.exceptions import NotFound

        project, dataset, _ = table_id.split(".")
        try:
            self.client.get_dataset(f"{project}.{dataset}")
        except NotFound:
            return BigflowError(f"cannot write_{mode} to {table_id}: dataset {project}.{dataset} does not exist")
        return BigflowError(f"cannot write_{mode} to {table_id}: the table does not exist; create it first "
                            "(create_table / create_table_from_schema)")

    def _load(self, table_name: str, partitioned: bool, custom_run_datetime: str | None, what: str,
              data: bytes, source_format: str) -> Any:
        """Load into a staging table (resumable upload), then INSERT it into the target in one statement."""
        from google.cloud import bigquery

        self.ensure_dataset()
        table_id, window = self._destination(table_name, partitioned, None, custom_run_datetime)
        table = self._table(table_id, "append")
        target = target_of(table)
        window = self._window(window, target, "append")
        stage_id = f"{self.dataset_id}.{STAGE_PREFIX}{uuid.uuid4().hex[:12]}"
        schema = list(table.schema)
        try:
            self._call(lambda: self.client.create_table(bigquery.Table(stage_id, schema=schema)), what)
            config = bigquery.LoadJobConfig(source_format=source_format, schema=schema,
                                            write_disposition="WRITE_TRUNCATE")
            self._call(lambda: self.client.load_table_from_file(io.BytesIO(data), stage_id, job_config=config,
                                                                rewind=True).result(), f"{what} to {table_id}")
            statement = statements.insert_select(target, f"SELECT * FROM `{stage_id}`", window)
            result = self._run(statement, None, f"{what} to {table_id}" + (f" (partition {window})" if window else ""))
        finally:
            self._call(lambda: self.client.delete_table(stage_id, not_found_ok=True), f"{what}: drop staging table")
        self._label_table(table_name, table_id)
        return result

    def _job_config(self, config: bigquery.QueryJobConfig | None = None) -> bigquery.QueryJobConfig:
        from google.cloud import bigquery

        config = config or bigquery.QueryJobConfig()
        config.use_legacy_sql = False
        if self.spec.job_labels:
            config.labels = dict(self.spec.job_labels)
        return config

    def _submit(self, statement: Statement, user_sql: str | None, what: str,
                config: bigquery.QueryJobConfig | None = None) -> bigquery.QueryJob:
        """Start a query job and wait for it; engine errors become one-line errors pointing at the user's line."""
        from google.api_core.exceptions import BadRequest

        client = self.client
        try:
            job = client.query(statement.sql, job_config=self._job_config(config))
            if not job.dry_run:
                job.result()
            return job
        except BadRequest as error:
            raise sql_error(error, what=what, sql=user_sql,
                            first_sql_line=statement.user_line(self.settings.uses_emulator)) from None
        except Exception as error:  # noqa: BLE001 - classified below
            raise _engine_error(error, what, self.settings) from None

    def _run(self, statement: Statement, user_sql: str | None, what: str) -> Any:
        return self._submit(statement, user_sql, what).result()

    def _dataframe(self, statement: Statement, user_sql: str, what: str) -> pandas.DataFrame:
        import warnings

        rows = self._run(statement, user_sql, what)
        with warnings.catch_warnings():  # google-cloud-bigquery suggests pandas-gbq; 1.x returns this frame
            warnings.filterwarnings("ignore", "Retrieving DataFrames", PendingDeprecationWarning)
            return rows.to_dataframe(create_bqstorage_client=not self.settings.uses_emulator)

    def _call(self, call: Callable[[], Any], what: str) -> Any:
        from google.api_core.exceptions import BadRequest

        try:
            return call()
        except BigflowError:
            raise
        except BadRequest as error:
            raise sql_error(error, what=what, sql=None) from None
        except Exception as error:  # noqa: BLE001 - classified below
            raise _engine_error(error, what, self.settings) from None

    # ------------------------------------------------------------------------------------------ 1.x run/peek

    def _should_run(self, operation_name: str | None) -> bool:
        return self._operation_name is None or self._operation_name == operation_name

    def _peeking(self, operation_name: str | None) -> bool:
        return self._peek and self._operation_name == operation_name

    @property
    def peeking(self) -> bool:
        """True in ``.peek()``: nothing may be written (components that change tables themselves check it)."""
        return self._peek

    def _skipped(self, operation_name: str | None, sql: str, custom_run_datetime: str | None) -> Any:
        """A peeked operation returns the first rows of its query; an operation not selected, an empty frame."""
        import pandas as pd

        if not self._peeking(operation_name):
            return pd.DataFrame()
        query = self.render(sql, f"peek of {operation_name}", custom_run_datetime)
        frame = self._dataframe(statements.preview(query, self._peek_limit), query, f"peek of {operation_name}")
        self.results.append(frame)
        return frame

    def _write(self, mode: str, table_name: str, sql: str, partitioned: bool, custom_run_datetime: str | None,
               operation_name: str | None, partition_type: str | None) -> Any:
        if not self._should_run(operation_name) or self._peeking(operation_name):
            return self._skipped(operation_name, sql, custom_run_datetime)
        return self.write(mode, table_name, sql, partitioned=partitioned, partition_type=partition_type,
                          custom_run_datetime=custom_run_datetime)

    def __repr__(self) -> str:
        return f"DatasetManager({self.dataset_id}, dt={self.runtime_str!r})"


def target_of(table: bigquery.Table) -> Target:
    """The ``Target`` of an existing table."""
    partitioning = table.time_partitioning
    columns = tuple(field.name for field in table.schema)
    if partitioning is None:
        return Target(table_id=_table_id_of(table), columns=columns)
    field_type = None
    if partitioning.field:
        types = {field.name: field.field_type for field in table.schema}
        field_type = {"TIMESTAMP": "TIMESTAMP", "DATETIME": "DATETIME", "DATE": "DATE"}.get(
            types.get(partitioning.field, "TIMESTAMP"), "TIMESTAMP")
    return Target(table_id=_table_id_of(table), columns=columns, partition_type=partitioning.type_ or "DAY",
                  partition_field=partitioning.field, field_type=field_type)


def _table_id_of(table: bigquery.Table) -> str:
    return f"{table.project}.{table.dataset_id}.{table.table_id}"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to BigQuery")


def _engine_error(error: Exception, what: str, settings: Settings) -> BigflowError:
    """A one-line error for a failed API call (not found, permission, credentials, emulator gone)."""
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    from bigflow_bigquery.errors import engine_message, first_line

    if isinstance(error, auth_exceptions.RefreshError | auth_exceptions.DefaultCredentialsError):
        return BigflowError(f"{what} failed: Google credentials were refused ({first_line(str(error))}): "
                            f"{engine.LOGIN_HINT}")
    if isinstance(error, exceptions.NotFound):
        return BigflowError(f"{what} failed: {first_line(engine_message(error))}")
    if isinstance(error, exceptions.Forbidden):
        return BigflowError(f"{what} failed: permission denied: {first_line(engine_message(error))}")
    if isinstance(error, exceptions.GoogleAPICallError):
        return BigflowError(f"{what} failed: {first_line(engine_message(error))}")
    if isinstance(error, ConnectionError | OSError) or type(error).__module__.startswith(("requests", "urllib3")):
        where = f"the BigQuery emulator at {engine.emulator_url(settings)}" if settings.endpoint.startswith("http") \
            else "BigQuery"
        return BigflowError(f"{what} failed: cannot reach {where}: {first_line(str(error))}")
    return BigflowError(f"{what} failed: {type(error).__name__}: {first_line(str(error))}")


# ---------------------------------------------------------------------------------------------- interactive


def interactive(config: DatasetConfig, env: str | None, method: str) -> Callable[..., InteractiveComponent]:
    from bigflow_bigquery.interactive import operation_component

    def lazy(*args: Any, **kwargs: Any) -> InteractiveComponent:
        return operation_component(config, env, method, args, kwargs)

    lazy.__name__ = method
    lazy.__doc__ = getattr(DatasetManager, method).__doc__
    return lazy


class InteractiveDatasetManager:
    """The lazy operations of a dataset: each returns an ``InteractiveComponent`` (1.x)."""

    OPERATIONS = ("write_truncate", "write_append", "write_tmp", "collect", "collect_list", "dry_run",
                  "create_table", "create_table_from_schema", "insert", "load_table_from_dataframe",
                  "delete_dataset")

    def __init__(self, config: DatasetConfig, env: str | None = None) -> None:
        self.config = config
        self.env = env

    def __getattr__(self, name: str) -> Callable[..., InteractiveComponent]:
        if name in self.OPERATIONS or name == "remove_dataset":
            return interactive(self.config, self.env, "delete_dataset" if name == "remove_dataset" else name)
        raise AttributeError(f"{type(self).__name__} has no operation {name!r} (operations: "
                             f"{', '.join(self.OPERATIONS)})")

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *self.OPERATIONS]

    def __repr__(self) -> str:
        return f"InteractiveDatasetManager({self.config!r}, env={self.env!r})"


def bind(config: DatasetConfig | InteractiveDatasetManager | DatasetManager, env: str | None,
         config_values: Mapping[str, Any] | None, runtime: str | datetime | date, **options: Any) -> DatasetManager:
    """A ``DatasetManager`` for a dependency of a component, in the environment a job runs in."""
    from bigflow_bigquery.settings import current_settings

    if isinstance(config, DatasetManager):
        return config
    if isinstance(config, InteractiveDatasetManager):
        env = config.env or env
        config = config.config
    settings = Settings.from_config(config_values, env) if config_values else current_settings(env)
    return DatasetManager(config.spec(env or settings.env), settings, runtime, **options)
