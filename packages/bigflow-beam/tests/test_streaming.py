"""Streaming: a BeamStreamingJob run locally over a TestStream, and deployed to Dataflow as a streaming job that a
redeploy updates in place or drains and replaces.

The Dataflow API is the only fake: ``FakeDataflow`` stands for ``JobsV1Beta3Client`` (the requests bigflow
builds are recorded and asserted exactly), and staging uploads nothing (``job_request`` builds the same
``CreateJobRequest`` offline).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud.dataflow_v1beta3 import (
    CreateJobRequest,
    GetJobRequest,
    Job,
    JobState,
    JobType,
    JobView,
    ListJobsRequest,
    PipelineDescription,
    TransformSummary,
    UpdateJobRequest,
)

import bigflow_beam.dataflow
from bigflow.artifacts import Artifact, Manifest
from bigflow_beam.dataflow import job_request

ENVIRONMENTS = """
[tool.bigflow.environments.local]
events_output = "{output}"

[tool.bigflow.environments.prod]
gcp_project_id = "acme-prod"
region = "europe-west1"
temp_location = "gs://acme-prod-dataflow/tmp"
docker_repository = "europe-west1-docker.pkg.dev/acme-prod/bigflow/streamer"
events_subscription = "projects/acme-prod/subscriptions/events"
events_output = "gs://acme-prod-data/events/counts"
dataflow_options = {{ enable_streaming_engine = true }}
"""

WORKFLOW = """
import apache_beam as beam
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from bigflow import Workflow
from bigflow_beam import BeamStreamingJob


def test_events(context):
    return (TestStream()
            .add_elements([TimestampedValue("click", 1), TimestampedValue("view", 2), TimestampedValue("click", 3)])
            .advance_watermark_to(60)
            .add_elements([TimestampedValue("click", 61)])
            .advance_watermark_to_infinity())


def pubsub_events(context):
    return beam.io.ReadFromPubSub(subscription=context.config["events_subscription"])


def count_events(pipeline, context, source):
    (pipeline
     | "Read" >> source
     | "Window" >> beam.WindowInto(FixedWindows(60))
     | "Count" >> beam.combiners.Count.PerElement()
     | "Format" >> beam.Map(lambda kv, w=beam.DoFn.WindowParam: f"{int(w.start)} {kv[0]} {kv[1]}")
     | "Write" >> beam.io.WriteToText(context.config["events_output"], file_name_suffix=".txt", num_shards=1))


workflow = Workflow("events", [BeamStreamingJob("count", entry_point=count_events, source=pubsub_events,
                                                test_source=test_events, pipeline_options={}{extra})])
"""

JOB_NAME = "events-count"
PROJECT = {"project_id": "acme-prod", "location": "europe-west1"}


class FakeDataflow:
    """``JobsV1Beta3Client``'s methods bigflow calls: each request is recorded; answers come from a script."""

    def __init__(self, active: list[Job] = (), steps: list[str] = (), states: list[str] = ()) -> None:
        self.requests: list[object] = []
        self.active = list(active)
        self.steps = list(steps)  # step names of the running job (JOB_VIEW_DESCRIPTION)
        self.states = list(states)  # what successive JOB_VIEW_SUMMARY lookups answer

    def list_jobs(self, request):
        self.requests.append(request)
        return iter(self.active)

    def get_job(self, request):
        self.requests.append(request)
        if request.view == JobView.JOB_VIEW_DESCRIPTION:
            transforms = [TransformSummary(name=name) for name in self.steps]
            return Job(id=request.job_id, pipeline_description=PipelineDescription(
                original_pipeline_transform=transforms))
        return Job(id=request.job_id, current_state=JobState[self.states.pop(0)])

    def update_job(self, request):
        self.requests.append(request)
        return Job(id=request.job_id, requested_state=request.job.requested_state)

    def create_job(self, request):
        self.requests.append(request)
        return Job(id="2024-05-06_01_02_03-new", name=request.job.name)


def running_job(state: str = "JOB_STATE_RUNNING") -> Job:
    return Job(id="2024-05-01_00_00_00-old", name=JOB_NAME, current_state=JobState[state],
               type_=JobType.JOB_TYPE_STREAMING, labels={"workflow_id": "events"})


@pytest.fixture
def streaming_project(beam_project, tmp_path):
    def make(extra: str = ""):
        output = tmp_path / "out" / "counts"
        project = beam_project("streamer", ENVIRONMENTS.format(output=output))
        project.module("events_workflow", WORKFLOW.replace("{extra}", extra))
        image = Artifact("image", "streamer:2.0.0", None, "sha256:" + "cd" * 32, {"tag": "2.0.0"})
        Manifest("streamer", "2.0.0", [image]).write(project.root)
        return project, output.parent

    return make


@pytest.fixture
def dataflow(monkeypatch):
    """Install a FakeDataflow as the Dataflow API; staging builds the request offline (nothing uploaded)."""

    def install(fake: FakeDataflow) -> FakeDataflow:
        def stage(job):
            fake.staged.append(job)
            return job_request(job)

        fake.staged = []
        monkeypatch.setattr(bigflow_beam.dataflow, "dataflow_client", lambda: fake)
        monkeypatch.setattr(bigflow_beam.dataflow, "stage_job", stage)
        return fake

    return install


def files(directory: Path) -> dict[str, list[str]]:
    return {p.name: p.read_text().splitlines() for p in sorted(directory.iterdir())}


def list_request() -> ListJobsRequest:
    return ListJobsRequest(**PROJECT, filter=ListJobsRequest.Filter.ACTIVE)


def test_runs_locally_over_the_test_stream(streaming_project, bigflow_cli):
    _, output = streaming_project()

    result = bigflow_cli("run", "--workflow", "events")

    assert result.exit_code == 0, result.stderr
    assert files(output) == {
        "counts-[0.0, 60.0)-00000-of-00001.txt": ["0 click 2", "0 view 1"],
        "counts-[60.0, 120.0)-00000-of-00001.txt": ["60 click 1"],
    }


def test_plan_starts_a_new_streaming_job_when_none_runs(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    fake = dataflow(FakeDataflow())

    result = bigflow_cli("plan", "dataflow-streaming", "--config", "prod")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["dataflow-streaming:", f"  + {JOB_NAME}: start a new streaming job"]
    assert fake.requests == [list_request()]


def test_deploy_submits_the_streaming_job(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    fake = dataflow(FakeDataflow())

    result = bigflow_cli("deploy", "dataflow-streaming", "--config", "prod")

    assert result.exit_code == 0, result.stderr
    assert f"+ {JOB_NAME}: start a new streaming job: job 2024-05-06_01_02_03-new" in result.stdout
    listed, created = fake.requests
    assert listed == list_request()
    assert isinstance(created, CreateJobRequest)
    assert (created.project_id, created.location) == ("acme-prod", "europe-west1")
    job = created.job
    assert job.name == JOB_NAME
    assert job.type_ == JobType.JOB_TYPE_STREAMING
    assert job.replace_job_id == ""
    assert dict(job.labels) == {"workflow_id": "events", "job_id": "count", "bigflow_env": "prod"}
    pool = job.environment.worker_pools[0]
    assert pool.sdk_harness_container_images[0].container_image == \
        "europe-west1-docker.pkg.dev/acme-prod/bigflow/streamer:2.0.0"
    options = type(job.environment).to_dict(job.environment)["sdk_pipeline_options"]["options"]
    assert options["streaming"] is True
    assert options["enable_streaming_engine"] is True
    (staged,) = fake.staged  # the pipeline reads the Pub/Sub subscription of the environment
    payloads = [t.spec.payload for t in staged.proto_pipeline.components.transforms.values()]
    assert any(b"projects/acme-prod/subscriptions/events" in payload for payload in payloads)


def test_redeploy_updates_a_compatible_running_job_in_place(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    fake = dataflow(FakeDataflow([running_job()], steps=["Read", "Window", "Count", "Format"]))

    plan = bigflow_cli("plan", "dataflow-streaming", "--config", "prod")
    fake.requests.clear()
    result = bigflow_cli("deploy", "dataflow-streaming", "--config", "prod")

    assert plan.stdout.splitlines() == [
        "dataflow-streaming:", f"  ~ {JOB_NAME}: update running job 2024-05-01_00_00_00-old in place"]
    assert result.exit_code == 0, result.stderr
    listed, described, created = fake.requests
    assert listed == list_request()
    assert described == GetJobRequest(**PROJECT, job_id="2024-05-01_00_00_00-old",
                                      view=JobView.JOB_VIEW_DESCRIPTION)
    assert created.job.name == JOB_NAME
    assert created.job.replace_job_id == "2024-05-01_00_00_00-old"
    assert dict(created.job.transform_name_mapping) == {}


def test_renamed_steps_are_mapped_and_the_job_still_updates(streaming_project, dataflow, bigflow_cli):
    streaming_project(extra=', transform_name_mapping={"Tally": "Count"}')
    fake = dataflow(FakeDataflow([running_job()], steps=["Read", "Window", "Tally", "Format"]))

    result = bigflow_cli("deploy", "dataflow-streaming", "--config", "prod")

    assert result.exit_code == 0, result.stderr
    created = fake.requests[-1]
    assert created.job.replace_job_id == "2024-05-01_00_00_00-old"
    assert dict(created.job.transform_name_mapping) == {"Tally": "Count"}


def test_an_incompatible_running_job_is_drained_then_replaced(streaming_project, dataflow, bigflow_cli):
    project, _ = streaming_project()
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "dataflow_drain_poll_sec = 0\n")
    fake = dataflow(FakeDataflow([running_job()], steps=["Read", "Dedupe", "Count"],
                                 states=["JOB_STATE_DRAINING", "JOB_STATE_DRAINING", "JOB_STATE_DRAINED"]))

    plan = bigflow_cli("plan", "dataflow-streaming", "--config", "prod")
    fake.requests.clear()
    result = bigflow_cli("deploy", "dataflow-streaming", "--config", "prod")

    assert plan.stdout.splitlines() == [
        "dataflow-streaming:",
        f"  ~ {JOB_NAME}: drain job 2024-05-01_00_00_00-old, then start a new job",
        f"  note: {JOB_NAME}: steps of the running job are gone from the new pipeline (Dedupe); map them with "
        "transform_name_mapping to update in place instead",
    ]
    assert result.exit_code == 0, result.stderr
    summary = GetJobRequest(**PROJECT, job_id="2024-05-01_00_00_00-old", view=JobView.JOB_VIEW_SUMMARY)
    assert fake.requests[:6] == [
        list_request(),
        GetJobRequest(**PROJECT, job_id="2024-05-01_00_00_00-old", view=JobView.JOB_VIEW_DESCRIPTION),
        UpdateJobRequest(**PROJECT, job_id="2024-05-01_00_00_00-old",
                         job=Job(requested_state=JobState.JOB_STATE_DRAINING)),
        summary, summary, summary,
    ]
    created = fake.requests[6]
    assert created.job.name == JOB_NAME
    assert created.job.replace_job_id == ""
    assert len(fake.requests) == 7


def test_a_job_still_draining_after_the_timeout_is_not_replaced(streaming_project, dataflow, bigflow_cli):
    project, _ = streaming_project()
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "dataflow_drain_timeout_sec = 0\n")
    dataflow(FakeDataflow([running_job("JOB_STATE_DRAINING")], states=["JOB_STATE_DRAINING"]))

    plan = bigflow_cli("plan", "dataflow-streaming", "--config", "prod")
    result = bigflow_cli("deploy", "dataflow-streaming", "--config", "prod")

    assert plan.stdout.splitlines()[1] == (
        f"  ~ {JOB_NAME}: job 2024-05-01_00_00_00-old is draining; start a new job once it has stopped")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: Dataflow job 2024-05-01_00_00_00-old (events-count) is still JOB_STATE_DRAINING after 0 s; "
        "not starting its replacement")


def test_nothing_to_deploy_where_streaming_jobs_run_locally(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    fake = dataflow(FakeDataflow())

    result = bigflow_cli("plan", "dataflow-streaming", "--config", "local")

    assert result.stdout.splitlines() == [
        "dataflow-streaming: nothing to do",
        "  note: environment 'local' runs streaming jobs on the local runner (count): nothing to deploy"]
    assert fake.requests == []


def test_beam_jobs_lists_the_projects_running_jobs(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    other = Job(id="x-1", name="someone-else", current_state=JobState.JOB_STATE_RUNNING, labels={})
    fake = dataflow(FakeDataflow([running_job(), other]))

    result = bigflow_cli("beam", "jobs", "--config", "prod", "--json")

    assert result.exit_code == 0, result.stderr
    assert result.json() == [{
        "name": JOB_NAME, "id": "2024-05-01_00_00_00-old", "type": "streaming", "state": "running",
        "created": "", "workflow": "events",
        "url": "https://console.cloud.google.com/dataflow/jobs/europe-west1/2024-05-01_00_00_00-old"
               "?project=acme-prod",
    }]
    assert fake.requests == [list_request()]
    table = bigflow_cli("beam", "jobs", "--config", "prod").stdout.splitlines()
    assert table[0].split() == ["Name", "Id", "Type", "State", "Created", "Workflow"]
    assert table[1].split() == [JOB_NAME, "2024-05-01_00_00_00-old", "streaming", "running", "events"]


def test_beam_jobs_needs_a_dataflow_project(streaming_project, dataflow, bigflow_cli):
    streaming_project()
    dataflow(FakeDataflow())

    result = bigflow_cli("beam", "jobs", "--config", "local")

    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: environment 'local' has no Dataflow project: set gcp_project_id "
                                     "and region under [tool.bigflow.environments.local]")


def test_a_streaming_job_without_a_test_source_cannot_run_locally(context_for):
    from bigflow_beam import BeamStreamingJob
    from bigflow_beam.errors import BeamJobError

    job = BeamStreamingJob("count", entry_point=lambda pipeline, context, source: None,
                           source=lambda context: None, pipeline_options={})

    with pytest.raises(BeamJobError) as raised:
        job.execute(context_for("local"))

    assert str(raised.value) == ("BeamStreamingJob 'count': no test_source to read on the local runner; "
                                 "give test_source=... to the job")


def test_a_streaming_entry_point_must_accept_the_source():
    from bigflow_beam import BeamStreamingJob
    from bigflow_beam.errors import BeamJobError

    with pytest.raises(BeamJobError, match=r"BeamStreamingJob 'count': entry_point <lambda>\(pipeline, context\) "
                                           r"cannot be called as entry_point\(pipeline, context, source=...\): "
                                           r"got an unexpected keyword argument 'source'"):
        BeamStreamingJob("count", entry_point=lambda pipeline, context: None, test_source=object(),
                         pipeline_options={})
