"""Dataflow: options built from a prod-like environment, and the job request checked with Beam's --dry_run.

Nothing is submitted: ``dry_run=True`` makes DataflowRunner translate the pipeline and return the job it
would create; ``bigflow_beam.dataflow.job_request`` fills in the environment part of the request the way
Beam does while staging.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import apache_beam as beam
import pytest

from bigflow.artifacts import Artifact, Manifest
from bigflow.errors import BigflowError
from bigflow_beam import BeamJob
from bigflow_beam.dataflow import job_request

REPOSITORY = "europe-west1-docker.pkg.dev/acme-prod/bigflow/demo"
IMAGE = f"{REPOSITORY}:1.4.0"
PROD = {
    "docker_repository": REPOSITORY,
    "gcp_project_id": "acme-prod",
    "region": "europe-west1",
    "temp_location": "gs://acme-prod-dataflow/tmp",
    "staging_location": "gs://acme-prod-dataflow/staging",
    "service_account": "dataflow@acme-prod.iam.gserviceaccount.com",
    "network": "shared-vpc",
    "dataflow_subnetwork": "regions/europe-west1/subnetworks/dataflow",
    "dataflow_machine_type": "n2-standard-4",
    "dataflow_max_workers": "8",
    "labels": {"team": "Data Platform"},
    "dataflow_options": {"use_public_ips": False},
}


def word_count(pipeline, context):
    (pipeline
     | beam.io.ReadFromText("gs://acme-prod-data/input/*.txt", validate=False)
     | beam.FlatMap(str.split)
     | beam.combiners.Count.PerElement()
     | beam.io.WriteToText("gs://acme-prod-data/output/counts"))


@pytest.fixture
def built_project(beam_project):
    """A project whose last build produced an image, recorded in its build manifest as `bigflow build` does."""
    project = beam_project("demo")
    image = Artifact("image", "demo:1.4.0", None, "sha256:" + "ab" * 32, {"repository": "demo", "tag": "1.4.0"})
    Manifest("demo", "1.4.0", [image]).write(project.root)
    return project


def sdk_options(request) -> dict:
    """The pipeline options the request hands to Dataflow's workers."""
    environment = request.job.environment
    return type(environment).to_dict(environment)["sdk_pipeline_options"]["options"]


def dry_run(job: BeamJob, context) -> tuple[object, object]:
    result = job.execute(context)
    return result, job_request(result.job)


def test_prod_job_request_has_runner_image_labels_locations_and_options(built_project, context_for):
    job = BeamJob("word_count", entry_point=word_count, pipeline_options={"dry_run": True})

    result, request = dry_run(job, context_for("prod", workflow_id="Daily.Words", **PROD))

    environment = request.job.environment
    pool = environment.worker_pools[0]
    options = sdk_options(request)
    assert options["runner"] == "DataflowRunner"
    assert result.state == "DONE"
    assert (request.project_id, request.location) == ("acme-prod", "europe-west1")
    assert re.fullmatch(r"daily-words-word-count-[0-9a-f]{8}", request.job.name)
    assert request.job.type_.name == "JOB_TYPE_BATCH"
    assert dict(request.job.labels) == {
        "team": "data-platform", "workflow_id": "daily-words", "job_id": "word_count", "bigflow_env": "prod",
    }
    assert [image.container_image for image in pool.sdk_harness_container_images] == [IMAGE]
    assert options["sdk_container_image"] == IMAGE
    assert environment.temp_storage_prefix.startswith(
        f"storage.googleapis.com/acme-prod-dataflow/tmp/{request.job.name}.")
    assert options["staging_location"].startswith(f"gs://acme-prod-dataflow/staging/{request.job.name}.")
    assert environment.service_account_email == "dataflow@acme-prod.iam.gserviceaccount.com"
    assert (pool.network, pool.subnetwork) == ("shared-vpc", "regions/europe-west1/subnetworks/dataflow")
    assert pool.machine_type == "n2-standard-4"
    assert pool.autoscaling_settings.max_num_workers == 8
    assert pool.ip_configuration.name == "WORKER_IP_PRIVATE"
    assert {k: options[k] for k in ("bigflow_env", "bigflow_workflow", "bigflow_jobid")} == {
        "bigflow_env": "prod", "bigflow_workflow": "Daily.Words", "bigflow_jobid": "word_count"}
    assert "bigflow_beam.worker.BigflowWorkerEnvironment" in options["beam_plugins"]


def test_job_options_override_the_environment_and_an_explicit_image_wins(built_project, context_for):
    job = BeamJob("word_count", entry_point=word_count, use_docker_image="gcr.io/acme/custom:7",
                  pipeline_options={"dry_run": True, "machine_type": "e2-small", "job_name": "fixed-name",
                                    "labels": ["owner=me"], "max_workers": 2})

    _, request = dry_run(job, context_for("prod", **PROD))

    pool = request.job.environment.worker_pools[0]
    assert request.job.name == "fixed-name"
    assert pool.machine_type == "e2-small"
    assert pool.autoscaling_settings.max_num_workers == 2  # 1.x's max_workers means Beam's max_num_workers
    assert pool.sdk_harness_container_images[0].container_image == "gcr.io/acme/custom:7"
    assert dict(request.job.labels)["owner"] == "me"


def test_without_an_image_the_built_wheel_is_staged_for_the_workers(beam_project, context_for):
    project = beam_project("demo")
    wheel = project.root / "dist" / "demo-1.4.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"not really a wheel")
    Manifest("demo", "1.4.0", [Artifact.for_file("wheel", project.root, wheel)]).write(project.root)
    job = BeamJob("word_count", entry_point=word_count, pipeline_options={"dry_run": True})

    result, _ = dry_run(job, context_for("prod", **PROD))

    options = result.job.options.get_all_options()
    assert options["extra_packages"] == [str(wheel)]
    assert options["sdk_container_image"] is None


def test_inside_the_image_the_installed_project_version_names_the_image(beam_project, context_for, tmp_path,
                                                                        monkeypatch):
    """In a container there is no project directory: the image is docker_repository:<installed version>."""
    project = beam_project("demo")
    project.module("pipelines", """
        import apache_beam as beam

        def noop(pipeline, context):
            pipeline | beam.Create([1])
    """)
    site = tmp_path / "site"
    (site / "demo-1.4.0+g1a2b3c.dist-info").mkdir(parents=True)
    (site / "demo-1.4.0+g1a2b3c.dist-info" / "METADATA").write_text("Name: demo\nVersion: 1.4.0+g1a2b3c\n")
    (site / "demo-1.4.0+g1a2b3c.dist-info" / "top_level.txt").write_text("demo\n")
    monkeypatch.syspath_prepend(str(site))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    from demo.pipelines import noop

    from bigflow.project import find_project

    find_project.cache_clear()
    _, request = dry_run(BeamJob("noop", entry_point=noop, pipeline_options={"dry_run": True}),
                         context_for("prod", **PROD))

    assert sdk_options(request)["sdk_container_image"] == f"{REPOSITORY}:1.4.0-g1a2b3c"


def test_use_docker_image_true_without_a_built_image_is_one_line(beam_project, context_for):
    beam_project("demo")
    job = BeamJob("word_count", entry_point=word_count, pipeline_options={"dry_run": True}, use_docker_image=True)

    with pytest.raises(BigflowError, match=r"use_docker_image=True but the project has no built image: run "
                                           r"'bigflow build image'"):
        job.execute(context_for("prod", **PROD))


def test_streaming_option_makes_a_streaming_job(built_project, context_for):
    job = BeamJob("word_count", entry_point=word_count, pipeline_options={"dry_run": True, "streaming": True})

    _, request = dry_run(job, context_for("prod", **PROD))

    assert request.job.type_.name == "JOB_TYPE_STREAMING"


def test_dataflow_workers_export_the_environment_at_start_up(built_project, context_for, tmp_path):
    """The options Dataflow would hand to an SDK worker, fed to Beam's real worker start-up (dry run)."""
    job = BeamJob("word_count", entry_point=word_count, pipeline_options={"dry_run": True})
    _, request = dry_run(job, context_for("prod", **PROD))
    # Struct numbers are doubles; the service hands integral ones to workers as integers. A submitted job has
    # no dry_run option.
    options = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in sdk_options(request).items()
               if k != "dry_run"}
    worker_options = json.dumps({"options": options})
    code = (
        "import os, sys\n"
        "from apache_beam.runners.worker import sdk_worker_main\n"
        "sdk_worker_main.create_harness({'PIPELINE_OPTIONS': sys.stdin.read(),"
        " 'CONTROL_API_SERVICE_DESCRIPTOR': ''}, dry_run=True)\n"
        "import bigflow_beam\n"
        "print(os.environ.get('bf_env'), bigflow_beam.current_env(),"
        " bigflow_beam.get_pipeline_options()['bigflow_workflow'])\n"
    )
    environ = {k: v for k, v in __import__("os").environ.items() if k != "bf_env"}

    done = subprocess.run([sys.executable, "-c", code], input=worker_options, capture_output=True, text=True,
                          env=environ, cwd=tmp_path, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["prod", "prod", "wf"]
    assert json.loads(worker_options)["options"]["bigflow_env"] == "prod"
