"""Bad input ends as one ``Error:`` line naming the problem and the fix, exit code != 0, no traceback."""

from __future__ import annotations

import json

import pytest

ENVIRONMENTS = """
[tool.bigflow.environments.local]
beam_runner = "local"

[tool.bigflow.environments.typo]
beam_runner = "Dataflw"

[tool.bigflow.environments.prod]
gcp_project_id = "acme-prod"
region = "europe-west1"

[tool.bigflow.environments.prod-ready]
gcp_project_id = "acme-prod"
region = "europe-west1"
temp_location = "gs://acme-prod-dataflow/tmp"
"""

WORKFLOWS = """
import time

import apache_beam as beam
from bigflow import Workflow
from bigflow_beam import BeamJob


def parse(line):
    if line == "bad":
        raise ValueError(f"cannot parse {line!r}")
    return line


def failing(pipeline, context):
    pipeline | beam.Create(["ok", "bad"]) | "Parse" >> beam.Map(parse)


def slow(pipeline, context):
    pipeline | beam.Create([1]) | beam.Map(lambda x: [time.sleep(0.05) for _ in range(600)])


def noop(pipeline, context):
    pipeline | beam.Create([1])


def broken_graph(pipeline, context):
    pipeline | beam.Create([1]) | beam.Map(undefined_function)


failing_wf = Workflow("failing", [BeamJob("parse", entry_point=failing, pipeline_options={}, retry_count=0)])
slow_wf = Workflow("slow", [BeamJob("sleep", entry_point=slow, pipeline_options={}, retry_count=0,
                                    execution_timeout_sec=4)])
noop_wf = Workflow("noop", [BeamJob("noop", entry_point=noop, pipeline_options={}, retry_count=0)])
graph_wf = Workflow("graph", [BeamJob("graph", entry_point=broken_graph, pipeline_options={}, retry_count=0)])
"""

DEFINITIONS = {
    "signature": "BeamJob('sig', entry_point=lambda pipeline: None, pipeline_options={})",
    "neither": "BeamJob('neither', entry_point=lambda p, c: None)",
    "both": "BeamJob('both', entry_point=lambda p, c: None, pipeline_options={}, test_pipeline=beam.Pipeline())",
}


@pytest.fixture
def project(beam_project):
    project = beam_project("badinput", ENVIRONMENTS)
    project.module("workflows", WORKFLOWS)
    return project


def one_line_error(result) -> str:
    """The one ``Error:`` line; Beam's own error records (with their tracebacks) must not be printed."""
    assert result.exit_code != 0, result.stdout
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    records = [json.loads(line) for line in lines if line.startswith("{")]
    beam_errors = [r for r in records if r["logger"].startswith("apache_beam") and r["severity"] == "ERROR"]
    assert not beam_errors, beam_errors
    return errors[0]


def run(bigflow_cli, *args):
    return bigflow_cli("run", "--log-format", "json", *args)


@pytest.mark.parametrize("case, expected", [
    ("signature", r"BeamJob 'sig': entry_point <lambda>(pipeline) cannot be called as "
                  r"entry_point(pipeline, context): too many positional arguments"),
    ("neither", "BeamJob 'neither': give exactly one of pipeline_options and test_pipeline, got neither"),
    ("both", "BeamJob 'both': give exactly one of pipeline_options and test_pipeline, got both"),
])
def test_bad_job_definitions(project, bigflow_cli, case, expected):
    project.module("defs", f"""
        import apache_beam as beam
        from bigflow import Workflow
        from bigflow_beam import BeamJob

        workflow = Workflow("{case}", [{DEFINITIONS[case]}])
    """)

    line = one_line_error(run(bigflow_cli, "--workflow", case))

    assert expected in line


def test_unknown_runner_suggests_the_nearest(project, bigflow_cli):
    line = one_line_error(run(bigflow_cli, "--workflow", "noop", "--config", "typo"))

    assert "BeamJob 'noop': beam_runner of environment 'typo': unknown Beam runner 'Dataflw'; " \
           "did you mean 'DataflowRunner'?" in line


def test_missing_temp_location_for_dataflow(project, bigflow_cli):
    line = one_line_error(run(bigflow_cli, "--workflow", "noop", "--config", "prod"))

    assert "BeamJob 'noop': DataflowRunner needs a temp_location or staging_location: set " \
           "temp_location = \"gs://BUCKET/dataflow/tmp\" under [tool.bigflow.environments.prod]" in line


def test_dataflow_without_credentials_says_how_to_log_in(project, bigflow_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud application-default credentials there
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # not on GCE: skip the metadata-server probe (minutes offline)

    line = one_line_error(run(bigflow_cli, "--workflow", "noop", "--config", "prod-ready"))

    assert "BeamJob 'noop' on Dataflow needs Google Cloud credentials and none were found: run 'gcloud auth " \
           "application-default login', or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file" in line


def test_a_failing_transform_shows_the_users_frame(project, bigflow_cli):
    line = one_line_error(run(bigflow_cli, "--workflow", "failing"))

    assert "BeamJob 'parse': the pipeline failed at badinput/workflows.py:11 in parse: " \
           "ValueError: cannot parse 'bad' [while running 'Parse']" in line


def test_an_error_while_building_the_graph_shows_the_users_frame(project, bigflow_cli):
    line = one_line_error(run(bigflow_cli, "--workflow", "graph"))

    assert "BeamJob 'graph': building the pipeline failed at badinput/workflows.py:28 in broken_graph: " \
           "NameError: name 'undefined_function' is not defined" in line


def test_timeout_cancels_the_pipeline(project, bigflow_cli):
    line = one_line_error(run(bigflow_cli, "--workflow", "slow"))

    assert "BeamJob 'sleep' timed out: still running after 3.6 s (execution_timeout_sec=4); " \
           "the pipeline was cancelled" in line
