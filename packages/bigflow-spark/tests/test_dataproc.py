"""The Dataproc engine: staging through google-cloud-storage to fake-gcs-server (real), submission to a fake
client whose received request is asserted field by field (submission is the only fake)."""

import ast
import json
import logging
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from google.cloud import dataproc_v1

from bigflow.artifacts import Artifact, Manifest
from bigflow.errors import BigflowError
from bigflow_spark import PySparkJob
from bigflow_spark.driver import RESULT_MARKER
from bigflow_spark.engines import engine_for
from bigflow_spark.process import SparkJobTimeout
from bigflow_spark.settings import read_settings

BUCKET = "acme-prod-staging"
OPERATION = "projects/acme-prod/regions/europe-west1/operations/op-1"
State = dataproc_v1.Batch.State


class FakeBatchClient:
    """Records requests; answers get_batch with the scripted states (the last one repeats)."""

    def __init__(self, *states, message=""):
        self.states, self.message = list(states) or [State.SUCCEEDED], message
        self.requests, self.cancelled = [], []

    def create_batch(self, request):
        self.requests.append(request)
        return object()

    def get_batch(self, name):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return dataproc_v1.Batch(name=name, state=state, state_message=self.message, operation=OPERATION,
                                 runtime_info=dataproc_v1.RuntimeInfo(output_uri="gs://out/driveroutput"))

    def cancel_operation(self, request):
        self.cancelled.append(request)


class FakeJobClient:
    def __init__(self, *states):
        self.states = list(states) or [dataproc_v1.JobStatus.State.DONE]
        self.requests, self.gets, self.cancelled = [], [], []

    def submit_job(self, request):
        self.requests.append(request)
        return request.job

    def get_job(self, project_id, region, job_id):
        self.gets.append((project_id, region, job_id))
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return dataproc_v1.Job(status=dataproc_v1.JobStatus(state=state, details="boom"))

    def cancel_job(self, project_id, region, job_id):
        self.cancelled.append((project_id, region, job_id))


@pytest.fixture
def prod_config(demo_project):
    return tomllib.loads((demo_project / "pyproject.toml").read_text())["tool"]["bigflow"]["environments"]["prod"]


@pytest.fixture
def bucket(gcs_client):
    return gcs_client.lookup_bucket(BUCKET) or gcs_client.create_bucket(BUCKET)


@pytest.fixture
def no_manifest(demo_project):
    manifest = demo_project / "build" / "manifest.json"
    manifest.unlink(missing_ok=True)
    yield
    manifest.unlink(missing_ok=True)


def run(job, context, *, poll=0.01, **clients):
    engine = engine_for(read_settings(context.config, job.overrides), poll_interval_sec=poll, **clients)
    return engine.run(job, context)


def count_words_job(**kwargs):
    from sparkdemo.drivers import count_words

    return PySparkJob("count_words", driver=count_words, driver_args={"top": 2}, **kwargs)


def test_prod_batch_request_field_by_field(in_project, context, prod_config, bucket, no_manifest, caplog):
    client = FakeBatchClient(State.PENDING, State.RUNNING, State.SUCCEEDED)
    job = count_words_job(spark_conf={"spark.sql.adaptive.enabled": True}, jars=["gs://lib/connector.jar"])
    with caplog.at_level(logging.INFO, logger="bigflow_spark"):
        result = run(job, context("prod", prod_config, workflow_id="Daily.Words"), batch_client=client)

    (request,) = client.requests
    assert re.fullmatch(r"count-words-20240301-0630-[0-9a-f]{8}", request.batch_id)
    run_id = request.batch_id
    assert result == {"batch": f"projects/acme-prod/locations/europe-west1/batches/{run_id}", "state": "SUCCEEDED"}
    assert request.parent == "projects/acme-prod/locations/europe-west1"
    assert request.request_id == ""
    batch = request.batch
    assert batch.pyspark_batch.main_python_file_uri == f"gs://{BUCKET}/spark/bigflow-spark/runs/{run_id}/{run_id}.py"
    package_uri, deps_uri = batch.pyspark_batch.python_file_uris
    assert re.fullmatch(rf"gs://{BUCKET}/spark/bigflow-spark/packages/[0-9a-f]{{16}}/sparkdemo\.zip", package_uri)
    assert re.fullmatch(rf"gs://{BUCKET}/spark/bigflow-spark/packages/[0-9a-f]{{16}}/bigflow-deps\.zip", deps_uri)
    assert list(batch.pyspark_batch.jar_file_uris) == ["gs://lib/connector.jar"]
    assert list(batch.pyspark_batch.args) == [] and list(batch.pyspark_batch.file_uris) == []
    assert batch.runtime_config.version == "2.2"
    assert batch.runtime_config.container_image == ""
    assert dict(batch.runtime_config.properties) == {
        "spark.executorEnv.bf_env": "prod",
        "spark.sql.shuffle.partitions": "64",
        "spark.executor.memory": "4g",
        "spark.sql.adaptive.enabled": "true",
    }
    execution = batch.environment_config.execution_config
    assert execution.service_account == "spark@acme-prod.iam.gserviceaccount.com"
    assert execution.subnetwork_uri == "projects/acme-prod/regions/europe-west1/subnetworks/spark"
    assert execution.network_uri == ""
    assert list(execution.network_tags) == ["spark", "egress"]
    assert execution.staging_bucket == BUCKET
    assert dict(batch.labels) == {"bigflow-workflow": "daily-words", "bigflow-job": "count_words",
                                  "bigflow-env": "prod", "team": "data"}
    # state is streamed, one line per change
    states = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"Dataproc batch {run_id}: ")]
    assert [s.split(": ")[1].split(" ")[0] for s in states] == ["PENDING", "RUNNING", "SUCCEEDED"]

    # what was staged: the driver file carries the spec; the zips carry the project and the framework
    main = bucket.blob(f"spark/bigflow-spark/runs/{run_id}/{run_id}.py").download_as_text()
    spec = json.loads(ast.literal_eval(main.splitlines()[-1].removeprefix("main(").removesuffix(")")))
    assert spec["driver"] == {"callable": "sparkdemo.drivers:count_words"}
    assert (spec["kwargs"], spec["context"]["env"], spec["context"]["workflow_id"]) == ({"top": 2}, "prod",
                                                                                       "Daily.Words")
    assert "master" not in spec and "spark_conf" not in spec
    names = zipfile.ZipFile(_download(bucket, package_uri)).namelist()
    assert "sparkdemo/drivers.py" in names and "sparkdemo/words.py" in names
    assert not any("__pycache__" in n for n in names)
    deps = set(zipfile.ZipFile(_download(bucket, deps_uri)).namelist())
    assert {"bigflow/workflow.py", "bigflow_spark/driver.py", "pluggy/__init__.py", "click/__init__.py"} <= deps
    assert not any(n.startswith(("pyspark/", "py4j/")) for n in deps)


def _download(bucket, uri):
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"staged-{uri.rsplit('/', 2)[-2]}-{uri.rsplit('/', 1)[-1]}"
    bucket.blob(uri.split(f"gs://{bucket.name}/", 1)[1]).download_to_filename(str(path))
    return path


def test_staged_driver_runs_on_a_python_with_only_spark(in_project, context, prod_config, bucket, no_manifest,
                                                        tmp_path, no_leftover_spark):
    """What Dataproc's stock runtime does with the staged files: run the driver file with the zips on the
    path, on a Python that has only pyspark and py4j (no site-packages)."""
    import py4j
    import pyspark

    client = FakeBatchClient()
    run(count_words_job(), context("prod", prod_config), batch_client=client)
    batch = client.requests[0].batch
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for module in (pyspark, py4j):
        (runtime / module.__name__).symlink_to(Path(module.__file__).parent)
    main = tmp_path / "driver.py"
    bucket.blob(batch.pyspark_batch.main_python_file_uri.split(f"{BUCKET}/", 1)[1]).download_to_filename(str(main))
    zips = [str(_download(bucket, uri)) for uri in batch.pyspark_batch.python_file_uris]
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(runtime), *zips]), "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run([sys.executable, "-S", str(main)], env=environ, cwd=tmp_path, capture_output=True,
                          text=True, timeout=240, start_new_session=True)
    result = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    assert done.returncode == 0 and result, done.stderr[-3000:]
    assert json.loads(result[0].removeprefix(RESULT_MARKER)) == {
        "ok": True, "value": {"env": "prod", "runtime": "2024-03-01 06:30:00", "top": [["the", 3], ["dog", 2]],
                              "partitions": "200"}}


def test_project_image_is_the_custom_container(in_project, context, prod_config, bucket):
    manifest = Manifest("sparkdemo", "0.1.0", [Artifact("image", "sparkdemo:0.1.0", digest="sha256:abc", details={
        "reference": "europe-west1-docker.pkg.dev/acme-prod/bigflow/sparkdemo:0.1.0"})])
    manifest.write(in_project)
    try:
        client = FakeBatchClient()
        run(count_words_job(), context("prod", prod_config), batch_client=client)
    finally:
        (in_project / "build" / "manifest.json").unlink()
    batch = client.requests[0].batch
    assert batch.runtime_config.container_image == "europe-west1-docker.pkg.dev/acme-prod/bigflow/sparkdemo:0.1.0"
    assert [uri.rsplit("/", 1)[1] for uri in batch.pyspark_batch.python_file_uris] == ["sparkdemo.zip"]


def test_configured_container_image_wins(in_project, context, prod_config, bucket, no_manifest):
    client = FakeBatchClient()
    config = {**prod_config, "dataproc_container_image": "gcr.io/acme/spark:1"}
    run(count_words_job(), context("prod", config), batch_client=client)
    assert client.requests[0].batch.runtime_config.container_image == "gcr.io/acme/spark:1"


def test_job_on_an_existing_cluster(in_project, context, prod_config, bucket, no_manifest):
    client = FakeJobClient(dataproc_v1.JobStatus.State.RUNNING, dataproc_v1.JobStatus.State.DONE)
    config = {**prod_config, "dataproc_cluster": "etl-cluster"}
    result = run(count_words_job(), context("prod", config), job_client=client)
    (request,) = client.requests
    job_id = request.job.reference.job_id
    assert result == {"job": f"projects/acme-prod/regions/europe-west1/jobs/{job_id}", "state": "DONE"}
    assert (request.project_id, request.region) == ("acme-prod", "europe-west1")
    assert request.job.reference.project_id == "acme-prod"
    assert request.job.placement.cluster_name == "etl-cluster"
    pyspark_job = request.job.pyspark_job
    assert pyspark_job.main_python_file_uri == f"gs://{BUCKET}/spark/bigflow-spark/runs/{job_id}/{job_id}.py"
    assert [u.rsplit("/", 1)[1] for u in pyspark_job.python_file_uris] == ["sparkdemo.zip", "bigflow-deps.zip"]
    assert dict(pyspark_job.properties)["spark.executor.memory"] == "4g"
    assert dict(request.job.labels)["bigflow-job"] == "count_words"
    assert client.gets == [("acme-prod", "europe-west1", job_id)] * 2


def test_failed_batch_is_one_line_with_the_driver_output(in_project, context, prod_config, bucket, no_manifest):
    client = FakeBatchClient(State.RUNNING, State.FAILED, message="Job failed with message [ValueError: x]")
    with pytest.raises(BigflowError) as raised:
        run(count_words_job(), context("prod", prod_config), batch_client=client)
    run_id = client.requests[0].batch_id
    assert str(raised.value) == (f"PySparkJob 'count_words': Dataproc batch {run_id} ended FAILED: Job failed with "
                                 "message [ValueError: x] (driver output: gs://out/driveroutput)")


def test_failed_cluster_job(in_project, context, prod_config, bucket, no_manifest):
    client = FakeJobClient(dataproc_v1.JobStatus.State.ERROR)
    with pytest.raises(BigflowError, match=r"^PySparkJob 'count_words': Dataproc job count-words-\S+ on cluster "
                                           r"etl ended ERROR: boom$"):
        run(count_words_job(), context("prod", {**prod_config, "dataproc_cluster": "etl"}), job_client=client)


def test_timeout_cancels_the_batch(in_project, context, prod_config, bucket, no_manifest):
    client = FakeBatchClient(State.RUNNING)
    with pytest.raises(SparkJobTimeout) as raised:
        run(count_words_job(execution_timeout_sec=1), context("prod", prod_config), batch_client=client, poll=0.05)
    assert client.cancelled == [{"name": OPERATION}]
    assert str(raised.value) == (f"PySparkJob 'count_words' timed out after 1s (execution_timeout_sec); "
                                 f"Dataproc batch {client.requests[0].batch_id} was cancelled")


def test_timeout_cancels_the_cluster_job(in_project, context, prod_config, bucket, no_manifest):
    client = FakeJobClient(dataproc_v1.JobStatus.State.RUNNING)
    with pytest.raises(SparkJobTimeout):
        run(count_words_job(execution_timeout_sec=1), context("prod", {**prod_config, "dataproc_cluster": "etl"}),
            job_client=client, poll=0.05)
    assert client.cancelled == [("acme-prod", "europe-west1", client.requests[0].job.reference.job_id)]


def test_missing_staging_bucket_submits_nothing(in_project, context, prod_config, fake_gcs, gcs_client):
    client = FakeBatchClient()
    config = {**prod_config, "dataproc_staging_location": "gs://no-such-bucket/x"}
    with pytest.raises(BigflowError) as raised:
        run(count_words_job(), context("prod", config), batch_client=client)
    assert str(raised.value) == (
        "staging bucket gs://no-such-bucket does not exist (dataproc_staging_location = 'gs://no-such-bucket/x'): "
        "create it (gcloud storage buckets create gs://no-such-bucket --project acme-prod --location europe-west1) "
        "or fix the setting")
    assert client.requests == []


def test_zips_are_staged_once_by_content(in_project, context, prod_config, bucket, no_manifest):
    first, second = FakeBatchClient(), FakeBatchClient()
    run(count_words_job(), context("prod", prod_config), batch_client=first)
    uris = list(first.requests[0].batch.pyspark_batch.python_file_uris)
    generations = [bucket.get_blob(u.split(f"{BUCKET}/", 1)[1]).generation for u in uris]
    run(count_words_job(), context("prod", prod_config), batch_client=second)
    assert list(second.requests[0].batch.pyspark_batch.python_file_uris) == uris
    assert [bucket.get_blob(u.split(f"{BUCKET}/", 1)[1]).generation for u in uris] == generations
    assert first.requests[0].batch_id != second.requests[0].batch_id


def test_compiled_pip_package_needs_a_container_image(in_project, context, prod_config, bucket, no_manifest):
    with pytest.raises(BigflowError, match=r"^PySparkJob 'count_words': Python package 'numpy' has compiled code "
                                           r"and cannot be shipped as a zip; build the project image"):
        run(count_words_job(pip_packages=["numpy"]), context("prod", prod_config), batch_client=FakeBatchClient())


def test_pure_python_pip_package_is_shipped(in_project, context, prod_config, bucket, no_manifest):
    client = FakeBatchClient()
    run(count_words_job(pip_packages=["pluggy>=1", "bigflow[bigquery]==1.11.3"]), context("prod", prod_config),
        batch_client=client)
    deps_uri = client.requests[0].batch.pyspark_batch.python_file_uris[1]
    assert "pluggy/__init__.py" in zipfile.ZipFile(_download(bucket, deps_uri)).namelist()


def test_1x_arguments_choose_project_region_and_bucket(in_project, context, bucket, no_manifest):
    client = FakeBatchClient()
    job = count_words_job(gcp_project_id="legacy-proj", gcp_region="us-central1", bucket_id=BUCKET,
                          worker_num_instances=5)
    run(job, context("prod", {"spark_master": "dataproc"}), batch_client=client)
    request = client.requests[0]
    assert request.parent == "projects/legacy-proj/locations/us-central1"
    assert request.batch.pyspark_batch.main_python_file_uri.startswith(f"gs://{BUCKET}/bigflow-spark/runs/")
    assert request.batch.runtime_config.properties["spark.executor.instances"] == "5"


def test_network_and_subnetwork_are_exclusive(in_project, context, prod_config, bucket, no_manifest):
    with pytest.raises(BigflowError, match="^set only one of dataproc_network and dataproc_subnetwork$"):
        run(count_words_job(), context("prod", {**prod_config, "dataproc_network": "default"}),
            batch_client=FakeBatchClient())


def test_no_credentials_is_one_line(in_project, context, prod_config, monkeypatch, tmp_path):
    for variable in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    with pytest.raises(BigflowError, match=r"^no Google Cloud credentials to stage to GCS: run 'gcloud auth "
                                           r"application-default login' or set GOOGLE_APPLICATION_CREDENTIALS$"):
        run(count_words_job(), context("prod", prod_config), batch_client=FakeBatchClient())


def test_secrets_are_not_staged(in_project, context, prod_config, bucket, no_manifest, caplog):
    client = FakeBatchClient()
    config = {**prod_config, "db_password": "hunter2", "api_token": "t0k3n", "tables": "orders"}
    run(count_words_job(), context("prod", config), batch_client=client)
    main_uri = client.requests[0].batch.pyspark_batch.main_python_file_uri
    main = bucket.blob(main_uri.split(f"{BUCKET}/", 1)[1]).download_as_text()
    assert "hunter2" not in main and "t0k3n" not in main and "orders" in main
    assert "secret configuration keys api_token, db_password are not sent to Dataproc" in caplog.text


def test_declared_secrets_and_tables_holding_a_secret_are_not_staged(in_project, prod_config, bucket, no_manifest,
                                                                     caplog):
    from datetime import datetime

    from bigflow.api import Environment, JobContext

    client = FakeBatchClient()
    values = {**prod_config, "env": "prod", "vault": "v-3e8a1f", "warehouse": {"user": "etl", "password": "pw-6d2c"},
              "tables": "orders"}
    config = Environment("prod", None, values, secret_keys={"vault"})  # vault: declared secret by a plugin
    context = JobContext.make(runtime=datetime(2024, 3, 1, 6, 30), workflow_id="demo_wf", env="prod", config=config,
                              run_id="run123")
    run(count_words_job(), context, batch_client=client)
    main_uri = client.requests[0].batch.pyspark_batch.main_python_file_uri
    main = bucket.blob(main_uri.split(f"{BUCKET}/", 1)[1]).download_as_text()
    assert "v-3e8a1f" not in main and "pw-6d2c" not in main and "orders" in main
    assert "secret configuration keys vault, warehouse are not sent to Dataproc" in caplog.text


def test_batch_left_behind_at_exit_is_cancelled(in_project, context, prod_config, bucket, no_manifest):
    """`bigflow run` runs jobs in threads that Ctrl-C does not reach: exiting cancels what is still waited for."""
    import threading
    import time

    from bigflow_spark import dataproc

    client, errors = FakeBatchClient(State.RUNNING), []

    def job_thread():
        try:
            run(count_words_job(), context("prod", prod_config), batch_client=client, poll=0.05)
        except BigflowError as error:
            errors.append(str(error))

    waiting = threading.Thread(target=job_thread, daemon=True)
    waiting.start()
    deadline = time.monotonic() + 30
    while not dataproc._waiting and time.monotonic() < deadline:
        time.sleep(0.05)
    dataproc._cancel_abandoned()  # what atexit calls
    assert client.cancelled == [{"name": OPERATION}]
    client.states = [State.CANCELLED]
    waiting.join(timeout=10)
    assert not waiting.is_alive() and not dataproc._waiting
    assert errors == [f"PySparkJob 'count_words': Dataproc batch {client.requests[0].batch_id} ended CANCELLED: "
                      "driver output: gs://out/driveroutput"]
