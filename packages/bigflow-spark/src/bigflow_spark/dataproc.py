"""The Dataproc engine: stage the project to GCS, submit a Serverless batch (or a job on an existing cluster)
with the official ``google-cloud-dataproc`` client, stream its state, and cancel it on timeout.

The clients are injectable (``DataprocEngine(settings, batch_client=..., job_client=..., storage_client=...)``):
tests pass a fake submission client and assert the exact request; staging always uses google-cloud-storage.
"""

from __future__ import annotations

import atexit
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigflow.api import BigflowError
from bigflow_spark.packaging import dependencies_zip, package_zip
from bigflow_spark.process import SparkJobTimeout
from bigflow_spark.settings import DataprocSettings, SparkSettings
from bigflow_spark.spec import base_spec, render_main

if TYPE_CHECKING:
    from bigflow.api import Project
    from bigflow_spark.jobs import PySparkJob

logger = logging.getLogger(__name__)

CREDENTIALS_HINT = "run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS"

# Cancel functions of batches/jobs being waited for: called when this process exits (e.g. after Ctrl-C on
# `bigflow run`, whose jobs run in threads that an interrupt does not reach).
_waiting: dict[str, Callable[[], None]] = {}


@atexit.register
def _cancel_abandoned() -> None:
    for what, cancel in list(_waiting.items()):
        logger.warning("cancelling %s: bigflow is exiting", what)
        try:
            cancel()
        except Exception as error:  # noqa: BLE001 - best effort at exit
            logger.error("could not cancel %s: %s", what, error)


def _label(value: str) -> str:
    """A valid label value: lowercase letters, digits, '-' and '_', at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]+", "-", value.lower())[:63]


def submission_id(job_id: str, runtime: Any) -> str:
    """A batch/job id: ``<job>-<runtime>-<random>``, lowercase, starting with a letter, at most 63 chars."""
    suffix = f"-{runtime:%Y%m%d-%H%M}-{uuid.uuid4().hex[:8]}"
    stem = re.sub(r"[^a-z0-9-]+", "-", job_id.lower()).strip("-") or "job"
    if not stem[0].isalpha():
        stem = f"bf-{stem}"
    return stem[: 63 - len(suffix)].rstrip("-") + suffix


def manifest_image(project: Project | None) -> str | None:
    """The project image of the last ``bigflow build`` (``build/manifest.json``), if one was built."""
    if project is None:
        return None
    from bigflow.api import Manifest

    manifest = Manifest.read(project.root, required=False)
    images = manifest.of_kind("image") if manifest else []
    return (images[-1].details.get("reference") or images[-1].name) if images else None


def _holds_secret(value: Any) -> bool:
    """True for a table (or a list) with a key named like a secret, at any depth."""
    from bigflow.api import is_secret_key

    if isinstance(value, dict):
        return any(is_secret_key(str(key)) or _holds_secret(item) for key, item in value.items())
    return isinstance(value, list) and any(_holds_secret(item) for item in value)


def _without_secrets(job: PySparkJob, config: dict[str, Any], secret_keys: frozenset[str]) -> dict[str, Any]:
    """The configuration minus secrets (keys named like secrets or in ``secret_keys``, the environment's secret
    settings; SecretStr values; tables that hold a secret): the driver file is stored in GCS, where secrets do
    not belong."""
    from bigflow.api import SecretStr, is_secret_key

    secret = sorted(k for k, v in config.items()
                    if k in secret_keys or is_secret_key(k) or isinstance(v, SecretStr) or _holds_secret(v))
    if secret:
        logger.warning("PySparkJob %r: secret configuration keys %s are not sent to Dataproc (the driver is "
                       "staged to GCS); read them from Secret Manager in the driver", job.id, ", ".join(secret))
    return {k: v for k, v in config.items() if k not in secret}


@dataclass
class Staged:
    main: str
    python_files: list[str]


class Staging:
    """Uploads to ``<staging location>/bigflow-spark/``: zips by content hash (uploaded once), run files per run."""

    def __init__(self, settings: DataprocSettings, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.auth.exceptions import DefaultCredentialsError
            from google.cloud import storage

            try:
                self._client = storage.Client(project=self.settings.project_id)
            except DefaultCredentialsError:
                raise BigflowError(f"no Google Cloud credentials to stage to GCS: {CREDENTIALS_HINT}") from None
        return self._client

    def _path(self, *parts: str) -> str:
        return "/".join(p for p in (self.settings.prefix, "bigflow-spark", *parts) if p)

    def check_bucket(self) -> Any:
        from google.api_core.exceptions import Forbidden

        name = self.settings.bucket
        try:
            bucket = self.client.lookup_bucket(name)
        except Forbidden:  # may write objects without reading bucket metadata
            return self.client.bucket(name)
        if bucket is None:
            raise BigflowError(
                f"staging bucket gs://{name} does not exist (dataproc_staging_location = "
                f"{self.settings.staging_location!r}): create it (gcloud storage buckets create gs://{name} "
                f"--project {self.settings.project_id} --location {self.settings.region}) or fix the setting")
        return bucket

    def upload(self, bucket: Any, path: str, source: Path, *, if_missing: bool = False) -> str:
        from google.api_core.exceptions import GoogleAPIError

        uri = f"gs://{bucket.name}/{path}"
        blob = bucket.blob(path)
        try:
            if if_missing and blob.exists():
                logger.debug("already staged: %s", uri)
                return uri
            blob.upload_from_filename(str(source), content_type="application/octet-stream")
        except GoogleAPIError as error:
            raise BigflowError(f"cannot stage {source.name} to {uri}: {error}") from None
        logger.info("staged %s", uri)
        return uri

    def stage(self, run_id: str, main: Path, zips: list[tuple[Path, str]]) -> Staged:
        bucket = self.check_bucket()
        python_files = [self.upload(bucket, self._path("packages", digest[:16], path.name), path, if_missing=True)
                        for path, digest in zips]
        return Staged(self.upload(bucket, self._path("runs", run_id, main.name), main), python_files)


class DataprocEngine:
    """``spark_master = "dataproc"``: a Serverless batch, or a job on ``dataproc_cluster``."""

    def __init__(self, settings: SparkSettings, *, batch_client: Any = None, job_client: Any = None,
                 storage_client: Any = None, poll_interval_sec: float = 10.0) -> None:
        assert settings.dataproc is not None
        self.settings = settings
        self.dataproc: DataprocSettings = settings.dataproc
        self.staging = Staging(self.dataproc, storage_client)
        self._batch_client = batch_client
        self._job_client = job_client
        self.poll_interval_sec = poll_interval_sec

    def _client(self, kind: str) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import dataproc_v1

        options = ClientOptions(api_endpoint=f"{self.dataproc.region}-dataproc.googleapis.com:443")
        try:
            return getattr(dataproc_v1, kind)(client_options=options)
        except DefaultCredentialsError:
            raise BigflowError(f"no Google Cloud credentials to submit to Dataproc: {CREDENTIALS_HINT}") from None

    @property
    def batch_client(self) -> Any:
        self._batch_client = self._batch_client or self._client("BatchControllerClient")
        return self._batch_client

    @property
    def job_client(self) -> Any:
        self._job_client = self._job_client or self._client("JobControllerClient")
        return self._job_client

    def run(self, job: PySparkJob, context: Any) -> dict[str, str]:
        image = None if self.dataproc.cluster else (self.dataproc.container_image or manifest_image(job.project()))
        package_dir = job.package_dir()
        run_id = submission_id(job.id, context.runtime)
        spec = base_spec(job, context, self.settings, embed_source=True)
        environment = getattr(context, "environment", None)  # the resolved Environment knows declared secrets
        spec["context"]["config"] = _without_secrets(job, spec["context"]["config"],
                                                     environment.secret_keys if environment else frozenset())
        properties = spec.pop("spark_conf")
        with tempfile.TemporaryDirectory(prefix="bigflow-spark-stage-") as work:
            main = Path(work) / f"{run_id}.py"
            main.write_text(render_main(spec))
            zips = [package_zip(package_dir, Path(work))] if package_dir else []
            if image is None:  # the stock runtime has only Spark: ship bigflow and the pip_packages too
                zips.append(dependencies_zip(job.pip_packages, job.id, Path(work)))
            staged = self.staging.stage(run_id, main, zips)
        labels = {"bigflow-workflow": _label(context.workflow_id or "none"), "bigflow-job": _label(job.id),
                  "bigflow-env": _label(context.env or "none"), **self.dataproc.labels}
        if self.dataproc.cluster:
            return self._run_cluster_job(job, run_id, staged, properties, labels)
        return self._run_batch(job, run_id, staged, properties, labels, image)

    def batch_request(self, job: PySparkJob, run_id: str, staged: Staged, properties: dict[str, str],
                      labels: dict[str, str], image: str | None) -> Any:
        from google.cloud import dataproc_v1

        settings = self.dataproc
        if settings.network and settings.subnetwork:
            raise BigflowError("set only one of dataproc_network and dataproc_subnetwork")
        execution = dataproc_v1.ExecutionConfig(service_account=settings.service_account or "",
                                                network_tags=list(settings.network_tags),
                                                staging_bucket=settings.bucket)
        if settings.network:
            execution.network_uri = settings.network
        if settings.subnetwork:
            execution.subnetwork_uri = settings.subnetwork
        return dataproc_v1.CreateBatchRequest(
            parent=f"projects/{settings.project_id}/locations/{settings.region}",
            batch_id=run_id,
            batch=dataproc_v1.Batch(
                pyspark_batch=dataproc_v1.PySparkBatch(main_python_file_uri=staged.main,
                                                       python_file_uris=staged.python_files,
                                                       jar_file_uris=list(job.jars)),
                runtime_config=dataproc_v1.RuntimeConfig(version=settings.runtime_version,
                                                         container_image=image or "", properties=properties),
                environment_config=dataproc_v1.EnvironmentConfig(execution_config=execution),
                labels=labels,
            ),
        )

    def _run_batch(self, job: PySparkJob, run_id: str, staged: Staged, properties: dict[str, str],
                   labels: dict[str, str], image: str | None) -> dict[str, str]:
        from google.cloud import dataproc_v1

        request = self.batch_request(job, run_id, staged, properties, labels, image)
        name = f"{request.parent}/batches/{run_id}"
        self.batch_client.create_batch(request=request)
        logger.info("Dataproc batch submitted: https://console.cloud.google.com/dataproc/batches/%s/%s?project=%s",
                    self.dataproc.region, run_id, self.dataproc.project_id)
        states = dataproc_v1.Batch.State
        latest: list[Any] = []

        def poll() -> tuple[str, str]:
            batch = self.batch_client.get_batch(name=name)
            latest[:] = [batch]
            message, output = batch.state_message, batch.runtime_info.output_uri
            if output:
                message = f"{message} (driver output: {output})" if message else f"driver output: {output}"
            return states(batch.state).name, message

        def cancel() -> None:
            operation = latest[0].operation if latest else ""
            if operation:
                self.batch_client.cancel_operation(request={"name": operation})

        self._wait(job, f"Dataproc batch {run_id}", poll, cancel, done={"SUCCEEDED"},
                   failed={"FAILED", "CANCELLED"})
        return {"batch": name, "state": "SUCCEEDED"}

    def job_request(self, job: PySparkJob, run_id: str, staged: Staged, properties: dict[str, str],
                    labels: dict[str, str]) -> Any:
        from google.cloud import dataproc_v1

        settings = self.dataproc
        return dataproc_v1.SubmitJobRequest(
            project_id=settings.project_id,
            region=settings.region,
            job=dataproc_v1.Job(
                reference=dataproc_v1.JobReference(project_id=settings.project_id, job_id=run_id),
                placement=dataproc_v1.JobPlacement(cluster_name=settings.cluster),
                pyspark_job=dataproc_v1.PySparkJob(main_python_file_uri=staged.main,
                                                   python_file_uris=staged.python_files,
                                                   jar_file_uris=list(job.jars), properties=properties),
                labels=labels,
            ),
        )

    def _run_cluster_job(self, job: PySparkJob, run_id: str, staged: Staged, properties: dict[str, str],
                         labels: dict[str, str]) -> dict[str, str]:
        from google.cloud import dataproc_v1

        request = self.job_request(job, run_id, staged, properties, labels)
        self.job_client.submit_job(request=request)
        settings = self.dataproc
        logger.info("Dataproc job submitted to cluster %s: https://console.cloud.google.com/dataproc/jobs/%s"
                    "?project=%s&region=%s", settings.cluster, run_id, settings.project_id, settings.region)
        states = dataproc_v1.JobStatus.State

        def poll() -> tuple[str, str]:
            status = self.job_client.get_job(project_id=settings.project_id, region=settings.region,
                                             job_id=run_id).status
            return states(status.state).name, status.details

        def cancel() -> None:
            self.job_client.cancel_job(project_id=settings.project_id, region=settings.region, job_id=run_id)

        self._wait(job, f"Dataproc job {run_id} on cluster {settings.cluster}", poll, cancel, done={"DONE"},
                   failed={"ERROR", "CANCELLED"})
        return {"job": f"projects/{settings.project_id}/regions/{settings.region}/jobs/{run_id}", "state": "DONE"}

    def _wait(self, job: PySparkJob, what: str, poll: Callable[[], tuple[str, str]], cancel: Callable[[], None],
              *, done: set[str], failed: set[str]) -> None:
        """Poll until a final state, logging each change; cancel on timeout or interrupt."""
        timeout = job.execution_timeout_sec
        started = time.monotonic()
        last = None
        _waiting[what] = cancel
        try:
            while True:
                state, message = poll()
                if state != last:
                    logger.info("%s: %s%s", what, state, f" ({message})" if message else "")
                    last = state
                if state in done:
                    return
                if state in failed:
                    raise BigflowError(f"PySparkJob {job.id!r}: {what} ended {state}: {message or 'no details'}")
                if timeout and time.monotonic() - started >= timeout:
                    cancel()
                    raise SparkJobTimeout(f"PySparkJob {job.id!r} timed out after {timeout:g}s "
                                          f"(execution_timeout_sec); {what} was cancelled")
                time.sleep(self.poll_interval_sec)
        except (KeyboardInterrupt, SystemExit):
            cancel()
            raise
        finally:
            _waiting.pop(what, None)
