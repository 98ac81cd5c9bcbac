"""Lazy operations, ``.run()``/``.peek()``/``.to_job()``, ``@component``, ``sensor`` and ``Job`` (the 1.x API)."""

from __future__ import annotations

from datetime import date

import pytest
from google.api_core.exceptions import NotFound

from bigflow.errors import BigflowError
from bigflow.workflow import Job as BaseJob
from bigflow_bigquery import (
    DatasetConfig,
    InteractiveComponent,
    Job,
    NotReadyError,
    add_label,
    component,
    sensor,
)


@pytest.fixture
def dataset(bq_project, dataset_name):
    """A lazy dataset manager of a DatasetConfig configured for 'local' (the project's emulator) and 'prod'."""
    config = DatasetConfig("local", "test-project", dataset_name, internal_tables=["events", "daily"],
                           properties={"threshold": 1}).add_configuration("prod", "my-prod-project")
    manager = config.create_dataset_manager()
    manager.write_tmp("events", "SELECT DATE '2024-01-01' AS day, 1 AS n UNION ALL "
                                "SELECT DATE '2024-01-02', 2").run()
    manager.create_table_from_schema("daily", [{"name": "day", "type": "DATE"}, {"name": "n", "type": "INT64"}],
                                     partition_column="day").run()
    return manager


DAILY = "SELECT day, n FROM {events} WHERE day = DATE('{dt}') AND n >= {threshold}"


def test_operations_are_lazy_until_run(dataset):
    write = dataset.write_truncate("daily", DAILY)
    assert isinstance(write, InteractiveComponent)
    assert dataset.collect_list("SELECT * FROM {daily}").run() == []
    write.run("2024-01-02")
    rows = dataset.collect_list("SELECT day, n FROM {daily}", record_as_dict=True).run()
    assert [(str(r["day"]), r["n"]) for r in rows] == [("2024-01-02", 2)]


def test_peek_previews_the_rows_without_writing(dataset):
    frame = dataset.write_truncate("daily", DAILY).peek("2024-01-01")
    assert frame.to_dict("records")[0]["n"] == 1
    assert len(dataset.write_append("daily", "SELECT * FROM {events}").peek("2024-01-01", limit=1)) == 1
    assert dataset.collect("SELECT COUNT(*) AS c FROM {daily}").run()["c"][0] == 0


def test_peek_writes_nothing_not_a_tmp_table_a_label_or_a_deleted_dataset(dataset):
    @component(ds=dataset)
    def events(ds):
        return ds.client.get_table(ds.internal_tables["events"])

    frame = dataset.write_tmp("events", "SELECT DATE '2024-01-03' AS day, 9 AS n").peek("2024-01-01")
    assert frame.to_dict("records") == [{"day": date(2024, 1, 3), "n": 9}]
    assert dataset.collect("SELECT MAX(n) AS m FROM {events}").run()["m"][0] == 2  # not replaced

    @component(ds=dataset)
    def rebuild(ds):
        ds.delete_dataset(operation_name="drop")  # 1.x: an operation of its own
        ds.delete_dataset()
        return ds.collect("SELECT COUNT(*) AS c FROM {events}", operation_name="count")

    assert rebuild.peek("2024-01-01", operation_name="count")["c"].tolist() == [2]
    assert rebuild.run("2024-01-01", operation_name="count")["c"].tolist() == [2]  # the dataset is still there

    labelled = add_label("events", {"team": "x"}, ds=dataset)
    with pytest.raises(BigflowError, match="several operations"):  # nothing to peek: it only writes
        labelled.peek("2024-01-01")
    assert events.run().labels == {}
    labelled.run()
    assert events.run().labels == {"team": "x"}

    rebuild.run("2024-01-01", operation_name="drop")
    with pytest.raises(NotFound, match=f"{dataset.config.resolve_dataset_name()}.events"):
        events.run()  # its own client call: the table went with the dataset


def test_component_run_peek_by_operation_name_and_to_job(dataset, job_context):
    @component(ds=dataset)
    def daily(ds):
        ds.write_truncate("daily", DAILY, operation_name="write")
        return ds.collect("SELECT n FROM {daily} ORDER BY day", operation_name="read")

    preview = daily.peek("2024-01-02", operation_name="write")
    assert preview["n"].tolist() == [2]
    assert dataset.collect("SELECT COUNT(*) AS c FROM {daily}").run()["c"][0] == 0
    assert daily.run("2024-01-01")["n"].tolist() == [1]
    assert daily.run("2024-01-02", operation_name="read")["n"].tolist() == [1]  # only the read ran
    with pytest.raises(BigflowError, match="operation 'nope' not found"):
        daily.peek("2024-01-01", operation_name="nope")

    job = daily.to_job(id="daily", retry_count=5)
    assert isinstance(job, BaseJob) and (job.id, job.retry_count, job.retry_pause_sec) == ("daily", 5, 60)
    assert job.execute(job_context("2024-01-02"))["n"].tolist() == [1, 2]


def test_job_runs_in_the_environment_of_its_context(dataset, bq_config, dataset_name):
    """The same job object runs against whatever engine the run's environment names."""
    from datetime import datetime

    from bigflow.workflow import JobContext

    job = dataset.collect("SELECT '{dt}' AS dt, {threshold} AS t").to_job(id="read")
    result = job.execute(JobContext.make(runtime=datetime(2024, 5, 6), env="local", config=bq_config))
    assert result.to_dict("records") == [{"dt": "2024-05-06 00:00:00", "t": 1}]
    offline_prod = {"env": "prod", "bigquery_endpoint": "http://127.0.0.1:9"}
    with pytest.raises(BigflowError, match=r"no BigQuery emulator answers at http://127.0.0.1:9 \(bigquery_endpoint of environment .prod.\)"):
        job.execute(JobContext.make(runtime=datetime(2024, 5, 6), env="prod", config=offline_prod))


def test_job_class_with_several_datasets(dataset, bq_project, job_context):
    other = DatasetConfig("local", "test-project", dataset.config.resolve_dataset_name() + "_b",
                          internal_tables=["copy"])

    def copy(source, target):
        target.write_tmp("copy", f"SELECT * FROM `{source.internal_tables['events']}`")
        return target.collect_list("SELECT COUNT(*) AS c FROM {copy}")[0]["c"]

    job = Job(copy, id="copy", source=dataset, target=other)
    assert job.execute(job_context()) == 2
    with pytest.raises(BigflowError, match="takes 'target' but no dataset was given for it"):
        Job(copy, id="copy", source=dataset).execute(job_context())


def test_sensor_fails_until_rows_arrive(dataset, job_context):
    wait = sensor("daily", "day = DATE('{dt}')", ds=dataset)
    assert wait.__name__ == "wait_for_daily"
    job = wait.to_job(id="wait", retry_count=144, retry_pause_sec=600)
    with pytest.raises(NotReadyError, match="daily is not ready"):
        job.execute(job_context("2024-01-01"))
    dataset.write_truncate("daily", DAILY).run("2024-01-01")
    job.execute(job_context("2024-01-01"))
    with pytest.raises(NotReadyError):
        job.execute(job_context("2024-01-02"))
    plain = sensor("daily", "TRUE")
    assert callable(plain) and plain.__name__ == "wait_for_daily"


def test_unknown_environment_of_a_dataset_config_names_the_configured_ones(bq_project):
    config = DatasetConfig("dev", "p", "d").add_configuration("prod", "q")
    with pytest.raises(BigflowError, match=r"no configuration for environment 'prd'.*did you mean 'prod'"):
        config.create_dataset_manager("prd")
    assert DatasetConfig(None, None, "d").resolve("anything")["dataset_name"] == "d"


def test_dataset_config_inherits_from_the_master_and_fills_placeholders(monkeypatch):
    config = DatasetConfig("dev", "dev-project", "ds", internal_tables=["a"], properties={
        "bucket": "{project_id}-bucket", "secret": None}).add_configuration("prod", "prod-project", "ds_prod")
    monkeypatch.setenv("bf_secret", "s3cr3t")
    prod = config.resolve("prod")
    assert (prod["project_id"], prod["dataset_name"], prod["internal_tables"]) == ("prod-project", "ds_prod", ["a"])
    assert prod["bucket"] == "prod-project-bucket" and prod["secret"] == "s3cr3t"
    assert config.resolve_extra_properties("dev") == {"bucket": "dev-project-bucket", "secret": "s3cr3t"}
    monkeypatch.setenv("bf_env", "prod")
    assert config.resolve_project_id() == "prod-project"


def test_dataset_config_resolves_like_config(monkeypatch):
    config = DatasetConfig("dev", "p", "d", properties={"routes": "page-routes-v2-{env}", "token": None})
    monkeypatch.setenv("bf_token", "abcd-1234")
    assert config.resolve("dev")["routes"] == "page-routes-v2-dev"
    assert DatasetConfig(None, None, "d", properties={"t": "x_{env}"}).resolve("qa")["t"] == "x_qa"
    monkeypatch.delenv("bf_token")
    with pytest.raises(ValueError, match="configuration value 'token' of environment 'dev' is required: set bf_token"):
        config.resolve("dev")
