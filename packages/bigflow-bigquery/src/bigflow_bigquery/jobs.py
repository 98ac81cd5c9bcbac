"""``BigQueryJob`` (job type ``bigquery``): a templated SQL statement, optionally written to a table."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from bigflow.api import BigflowError, Job, JobContext
from bigflow_bigquery.config import DatasetConfig
from bigflow_bigquery.dataset import InteractiveDatasetManager, bind
from bigflow_bigquery.partitions import split_decorator, unit

WRITE_MODES = ("truncate", "append", "empty")


class BigQueryJob(Job):
    """Runs ``sql`` (or the file ``sql_file``) for the run's runtime; with a ``destination``, writes its rows.

    - ``destination``: a table alias of ``dataset``, a table name in it, or ``dataset.table`` /
      ``project.dataset.table``; without it the statement just runs (DDL, DML, scripts).
    - ``write``: ``truncate`` replaces the rows (of the runtime's partition with ``partition``), ``append``
      adds rows, ``empty`` fails when the table (or partition) already holds rows.
    - ``partition``: ``DAY``, ``HOUR``, ``MONTH`` or ``YEAR`` to write only the runtime's partition; None
      writes the whole table.
    - A missing destination is created from the query's schema for ``truncate``/``empty`` (partitioned per
      ``partition`` by ``partition_column``); ``append`` needs an existing table.
    - Templating as in the dataset API: ``{dt}``, the dataset's table aliases and properties.

    ``sql_file`` is read at run time, relative to the module creating the job.
    """

    def __init__(self, id: str, sql: str | None = None, sql_file: str | Path | None = None,
                 destination: str | None = None, write: str = "truncate", partition: str | None = None,
                 partition_column: str | None = None,
                 dataset: DatasetConfig | InteractiveDatasetManager | None = None,
                 properties: dict[str, Any] | None = None, **options: Any) -> None:
        super().__init__(id=id, **options)
        if (sql is None) == (sql_file is None):
            raise BigflowError(f"BigQueryJob {id!r}: give exactly one of sql or sql_file")
        if write not in WRITE_MODES:
            raise BigflowError(f"BigQueryJob {id!r}: write must be one of {', '.join(WRITE_MODES)}, got {write!r}")
        if destination is not None:
            split_decorator(destination)  # a bad 'table$YYYYMMDD' fails when the job is defined, not when it runs
        self.sql = sql
        self.sql_file = _resolve(sql_file, id) if sql_file is not None else None
        self.destination = destination
        self.write = write
        self.partition = unit(partition) if partition is not None else None
        self.partition_column = partition_column
        if destination is None and (partition or partition_column or write != "truncate"):
            raise BigflowError(f"BigQueryJob {id!r}: write, partition and partition_column need a destination")
        if partition_column is not None and partition is None:
            raise BigflowError(f"BigQueryJob {id!r}: partition_column={partition_column!r} needs partition= (DAY, "
                               "HOUR, MONTH or YEAR), the unit its partitions are cut by")
        if dataset is None:
            if not (destination and "." in destination):
                raise BigflowError(f"BigQueryJob {id!r}: give dataset=... (a DatasetConfig) or a destination "
                                   "'dataset.table': the job needs the dataset it runs in")
            dataset = DatasetConfig(env=None, project_id=None, dataset_name=destination.split(".")[-2],
                                    properties=properties)
        elif properties:
            raise BigflowError(f"BigQueryJob {id!r}: properties come from the dataset; set them in its DatasetConfig")
        self.dataset = dataset

    def read_sql(self) -> str:
        if self.sql_file is None:
            return self.sql or ""
        try:
            return self.sql_file.read_text()
        except OSError as error:
            raise BigflowError(f"BigQueryJob {self.id!r}: cannot read {self.sql_file}: {error.strerror}") from None

    def execute(self, context: JobContext) -> Any:
        manager = bind(self.dataset, context.env, context.config, context.runtime_str)
        source = f" ({self.sql_file.name})" if self.sql_file else ""
        what = f"BigQuery job {self.id!r}{source}"
        if self.destination is None:
            return manager.query(self.read_sql(), what=what)
        return manager.write(self.write, self.destination, self.read_sql(), partitioned=self.partition is not None,
                             partition_type=self.partition, create_partition_column=self.partition_column,
                             create_missing=self.write != "append", what=what)


def _resolve(sql_file: str | Path, job_id: str) -> Path:
    """``sql_file`` as given when absolute, else relative to the module that created the job."""
    path = Path(sql_file)
    if not path.is_absolute():
        frame = inspect.currentframe()
        here = str(Path(__file__).parent)
        while frame is not None and frame.f_code.co_filename.startswith(here):
            frame = frame.f_back
        caller = Path(frame.f_code.co_filename) if frame is not None else None
        base = caller.parent if caller is not None and caller.is_file() else Path.cwd()
        path = base / path
    if not path.is_file():
        raise BigflowError(f"BigQueryJob {job_id!r}: sql_file {str(sql_file)!r} not found (looked for {path})")
    return path
