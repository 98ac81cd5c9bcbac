"""Dataflow specifics: required options, the project's worker image, and the job request a run would send."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from bigflow.api import BigflowError, Environment
from bigflow_beam.options import config_value

logger = logging.getLogger(__name__)

#: Job states on the way to stopping, and all states of a job that has not stopped yet.
STOPPING = {"JOB_STATE_DRAINING", "JOB_STATE_CANCELLING"}
NOT_STOPPED = STOPPING | {"JOB_STATE_RUNNING", "JOB_STATE_PENDING", "JOB_STATE_QUEUED", "JOB_STATE_RESOURCE_CLEANING_UP"}

_REQUIRED = (("project", "gcp_project_id", "my-gcp-project"), ("region", "region", "europe-west1"))


def check_options(options: MutableMapping[str, Any], env: str | None, job: str) -> None:
    """A one-line error for each Dataflow option that is missing or malformed (project, region, locations)."""
    where = f"[tool.bigflow.environments.{env or 'ENV'}]"
    for option, key, example in _REQUIRED:
        if not options.get(option):
            raise BigflowError(
                f"{job}: DataflowRunner needs {option!r}: set {key} = \"{example}\" under {where} "
                f"(or {option!r} in pipeline_options)"
            )
    if not (options.get("temp_location") or options.get("staging_location")):
        raise BigflowError(
            f"{job}: DataflowRunner needs a temp_location or staging_location: set "
            f"temp_location = \"gs://BUCKET/dataflow/tmp\" under {where}"
        )
    for option in ("temp_location", "staging_location"):
        value = options.get(option)
        if value and not str(value).startswith("gs://"):
            raise BigflowError(f"{job}: {option} must be a gs:// path for DataflowRunner, got {value!r}")


def check_credentials(what: str) -> None:
    """A one-line error saying how to log in when there are no Google Cloud credentials (ADC)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError:
        raise BigflowError(
            f"{what} needs Google Cloud credentials and none were found: run 'gcloud auth application-default "
            "login', or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
        ) from None


def built_artifacts(config: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(image, wheel path)`` of the current project's last build, from its build manifest (or None).

    The image is named as ``bigflow deploy image`` pushes it: the environment's ``docker_repository`` with the
    built tag, else the name it was built under.
    """
    from bigflow.api import Manifest, find_project

    project = find_project()
    manifest = Manifest.read(project.root, required=False) if project else None
    if manifest is None:
        return None, None
    images, wheels = manifest.of_kind("image"), manifest.of_kind("wheel")
    image = None
    if images:
        repository, tag = config_value(config, "docker_repository"), images[-1].details.get("tag")
        image = f"{repository}:{tag}" if repository and tag else images[-1].name
    wheel = str(project.root / wheels[-1].path) if wheels and wheels[-1].path else None
    return image, wheel


def installed_image(config: Mapping[str, Any], package: str | None) -> str | None:
    """Inside the project's image: ``docker_repository:<installed version of the project>`` (as in 1.x)."""
    repository = config_value(config, "docker_repository")
    if not (repository and package):
        return None
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    from bigflow.api import image_tag

    for distribution in packages_distributions().get(package, []):
        try:
            return f"{repository}:{image_tag(version(distribution))}"
        except PackageNotFoundError:
            continue
    return None


def set_worker_code(options: MutableMapping[str, Any], use_docker_image: bool | str | None, job: str,
                    config: Mapping[str, Any], package: str | None) -> None:
    """Make the project's code available to Dataflow workers: its image as ``sdk_container_image``, else its
    built wheel as an extra package.

    ``use_docker_image``: an image name to use; True to require the project's image; False to leave workers on
    Beam's default container; None (default) to use the project's image when there is one. The project's image
    is the one in the build manifest (runs from the project's directory), else the one this code is installed
    in (runs inside the project's image).
    """
    if isinstance(use_docker_image, str):
        options["sdk_container_image"] = use_docker_image
    if options.get("sdk_container_image") or use_docker_image is False:
        return
    image, wheel = built_artifacts(config)
    image = image or installed_image(config, package)
    if image:
        options["sdk_container_image"] = image
    elif use_docker_image is True:
        raise BigflowError(
            f"{job}: use_docker_image=True but the project has no built image: run "
            f"'bigflow build image', or set sdk_container_image in the environment's configuration"
        )
    elif wheel and not options.get("extra_packages"):
        options["extra_packages"] = [wheel]
        logger.info("Dataflow workers install the project wheel %s (no project image built)", wheel)
    else:
        logger.warning("Dataflow workers run Beam's default container without the project's code: build the "
                       "project image ('bigflow build image') or set sdk_container_image")


def console_url(project: str, region: str, job_id: str) -> str:
    return f"https://console.cloud.google.com/dataflow/jobs/{region}/{job_id}?project={project}"


def job_request(job: Any) -> Any:
    """The ``CreateJobRequest`` that submitting a dry-run ``apiclient.Job`` would send, built offline.

    Beam's ``--dry_run`` stops before the job's environment (workers, image, service account, network,
    options) is filled in, because that happens while staging files to GCS. This fills it in the same way,
    without staging: the pipeline proto URL is where it would be staged.
    """
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import GoogleCloudOptions
    from apache_beam.runners.dataflow.internal import apiclient
    from apache_beam.runners.internal import names
    from google.cloud.dataflow_v1beta3 import CreateJobRequest

    cloud = job.options.view_as(GoogleCloudOptions)
    environment = apiclient.Environment(
        packages=[], options=job.options, environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url=FileSystems.join(cloud.staging_location, names.STAGED_PIPELINE_FILENAME),
        proto_pipeline=job.proto_pipeline,
    )
    job.proto.environment = environment.proto
    return CreateJobRequest(project_id=cloud.project, location=cloud.region, job=job.proto)


# -- the Dataflow API (list, drain, submit); tests replace dataflow_client() and stage_job() -----------

def dataflow_client() -> Any:
    """The Dataflow jobs API client (``JobsV1Beta3Client``, application default credentials)."""
    from google.cloud.dataflow_v1beta3 import JobsV1Beta3Client

    check_credentials("the Dataflow API")
    return JobsV1Beta3Client()


def stage_job(job: Any) -> Any:
    """Stage a dry-run ``apiclient.Job``'s files to its GCS staging location; return its ``CreateJobRequest``."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions
    from apache_beam.runners.dataflow.internal.apiclient import DataflowApplicationClient
    from google.cloud.dataflow_v1beta3 import CreateJobRequest

    DataflowApplicationClient(job.options, job.root_staging_location).create_job_description(job)
    cloud = job.options.view_as(GoogleCloudOptions)
    return CreateJobRequest(project_id=cloud.project, location=cloud.region, job=job.proto)


class DataflowApi:
    """The Dataflow requests bigflow makes for one environment (project and region from its configuration)."""

    def __init__(self, config: Mapping[str, Any], env: str) -> None:
        self.config = Environment.of(config, env)
        self.project, self.region = config_value(config, "gcp_project_id"), config_value(config, "region")
        if not (self.project and self.region):
            raise BigflowError(f"environment {env!r} has no Dataflow project: set gcp_project_id and region under "
                               f"[tool.bigflow.environments.{env}]")
        self.client = dataflow_client()

    def jobs(self, *, active_only: bool) -> list[Any]:
        """Jobs of the region (only the active ones when ``active_only``)."""
        from google.cloud.dataflow_v1beta3 import ListJobsRequest

        wanted = ListJobsRequest.Filter.ACTIVE if active_only else ListJobsRequest.Filter.ALL
        request = ListJobsRequest(project_id=self.project, location=self.region, filter=wanted)
        return list(self.client.list_jobs(request=request))

    def step_names(self, running: Any) -> set[str]:
        from google.cloud.dataflow_v1beta3 import GetJobRequest, JobView

        job = self.client.get_job(request=GetJobRequest(project_id=self.project, location=self.region,
                                                        job_id=running.id, view=JobView.JOB_VIEW_DESCRIPTION))
        return {t.name for t in job.pipeline_description.original_pipeline_transform}

    def drain(self, running: Any) -> None:
        from google.cloud.dataflow_v1beta3 import Job, JobState, UpdateJobRequest

        logger.info("draining Dataflow job %s (%s)", running.id, running.name)
        self.client.update_job(request=UpdateJobRequest(
            project_id=self.project, location=self.region, job_id=running.id,
            job=Job(requested_state=JobState.JOB_STATE_DRAINING)))

    def wait_stopped(self, running: Any, sleep: Callable[[float], None], poll: float, timeout: float) -> None:
        from google.cloud.dataflow_v1beta3 import GetJobRequest, JobView

        waited = 0.0
        while True:
            job = self.client.get_job(request=GetJobRequest(project_id=self.project, location=self.region,
                                                            job_id=running.id, view=JobView.JOB_VIEW_SUMMARY))
            if job.current_state.name not in NOT_STOPPED:
                return
            if waited >= timeout:
                raise BigflowError(f"Dataflow job {running.id} ({running.name}) is still "
                                   f"{job.current_state.name} after {timeout:g} s; not starting its replacement")
            sleep(poll)
            waited += poll

    def submit(self, job: Any) -> Any:
        return self.client.create_job(request=stage_job(job))

    def console_url(self, job_id: str) -> str:
        return console_url(self.project, self.region, job_id)
