"""BeamJob on the local runners: results, options seen by workers, runner choice, the 1.x call styles."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline

from bigflow.testing.terminal import on_a_terminal
from bigflow_beam import BeamJob, current_env, get_pipeline_options


def count_words(pipeline, context, lines, output):
    (pipeline
     | beam.Create(lines)
     | beam.FlatMap(str.split)
     | beam.combiners.Count.PerElement()
     | beam.MapTuple(lambda word, count: f"{word} {count}")
     | beam.io.WriteToText(output, shard_name_template="", file_name_suffix=".txt"))


def report_worker_view(pipeline, context, output):
    """Writes what a transform sees on the worker: the pipeline's bigflow options and the environment."""

    def view(_):
        options = get_pipeline_options()
        keys = ("bigflow_env", "bigflow_workflow", "bigflow_jobid", "bigflow_runtime", "bigflow_run_id")
        return json.dumps({**{k: options.get(k) for k in keys}, "current_env": current_env()})

    pipeline | beam.Create([0]) | beam.Map(view) | beam.io.WriteToText(output, shard_name_template="")


def read_lines(path: Path) -> list[str]:
    return sorted(path.read_text().splitlines())


def test_word_count_runs_in_process_and_writes_its_output(tmp_path, context_for, caplog, capsys):
    job = BeamJob("count", entry_point=count_words, pipeline_options={},
                  entry_point_args=(["a b a", "c a"],), entry_point_kwargs={"output": str(tmp_path / "out")})

    with caplog.at_level(logging.INFO):
        result = job.execute(context_for("local"))

    assert result.state == "DONE"
    assert type(result).__module__ == "apache_beam.runners.portability.fn_api_runner.fn_runner"
    assert read_lines(tmp_path / "out.txt") == ["a 3", "b 1", "c 1"]
    assert not [r for r in caplog.records if "prism" in r.getMessage().lower()], "Beam tried the Prism runner"
    assert "running the Beam pipeline" not in capsys.readouterr().err  # progress only on a terminal


def test_workers_see_the_bigflow_options(tmp_path, context_for, monkeypatch):
    monkeypatch.delenv("bf_env", raising=False)
    job = BeamJob("report", entry_point=report_worker_view, pipeline_options={},
                  entry_point_kwargs={"output": str(tmp_path / "view")})

    job.execute(context_for("local"))

    assert json.loads((tmp_path / "view").read_text()) == {
        "bigflow_env": "local", "bigflow_workflow": "wf", "bigflow_jobid": "report",
        "bigflow_runtime": "2024-05-01 10:00:00", "bigflow_run_id": "run1", "current_env": "local",
    }


@pytest.mark.parametrize("runner", ["DirectRunner", "direct", "SwitchingDirectRunner"])
def test_direct_runner_is_pinned_to_the_local_runner_without_prism(runner, tmp_path, context_for, caplog):
    job = BeamJob("count", entry_point=count_words, pipeline_options={"runner": runner},
                  entry_point_args=(["x"], str(tmp_path / "out")))

    with caplog.at_level(logging.INFO):
        job.execute(context_for("local"))

    assert read_lines(tmp_path / "out.txt") == ["x 1"]
    messages = " ".join(r.getMessage() for r in caplog.records).lower()
    assert "prism" not in messages
    assert "running the pipeline on localrunner" in messages


def test_bundle_based_direct_runner_can_be_chosen_by_config(tmp_path, context_for):
    job = BeamJob("count", entry_point=count_words, pipeline_options={},
                  entry_point_args=(["y y"], str(tmp_path / "out")))

    result = job.execute(context_for("local", beam_runner="BundleBasedDirectRunner"))

    assert type(result).__name__ == "DirectPipelineResult"
    assert read_lines(tmp_path / "out.txt") == ["y 2"]


def test_config_runner_overrides_the_runner_hard_coded_in_a_1x_job(tmp_path, context_for):
    """A 1.x job that hard-codes DataflowRunner runs locally where the environment says so."""
    job = BeamJob("count", entry_point=count_words, entry_point_args=(["z"], str(tmp_path / "out")),
                  pipeline_options={"runner": "DataflowRunner", "project": "p", "temp_location": "gs://b/t"})

    job.execute(context_for("dev", beam_runner="local"))

    assert read_lines(tmp_path / "out.txt") == ["z 1"]


def test_a_test_pipeline_runs_as_given_with_bigflow_options(tmp_path, context_for, caplog):
    pipeline = test_pipeline.TestPipeline()
    job = BeamJob("report", entry_point=report_worker_view, test_pipeline=pipeline,
                  entry_point_kwargs={"output": str(tmp_path / "view")})

    with caplog.at_level(logging.INFO):
        job.execute(context_for("dev"))

    assert json.loads((tmp_path / "view").read_text())["bigflow_env"] == "dev"
    assert "prism" not in " ".join(r.getMessage() for r in caplog.records).lower()


def test_pipeline_options_object_and_legacy_entry_point_arguments(tmp_path, context_for):
    def legacy(pipeline, context, entry_point_arguments):
        assert entry_point_arguments == {"lines": ["q"]}
        count_words(pipeline, context, entry_point_arguments["lines"], str(tmp_path / "out"))

    with pytest.warns(DeprecationWarning, match="entry_point_arguments"):
        job = BeamJob("legacy", entry_point=legacy, entry_point_arguments={"lines": ["q"]},
                      pipeline_options=PipelineOptions(flags=[], job_name="legacy-name"))

    job.execute(context_for("local"))

    assert job.pipeline_options == {"job_name": "legacy-name"}
    assert read_lines(tmp_path / "out.txt") == ["q 1"]


def test_1x_entry_point_with_a_required_third_parameter_gets_an_empty_dict(tmp_path, context_for):
    seen = []

    def old_style(pipeline, context, entry_point_arguments):
        seen.append(entry_point_arguments)
        pipeline | beam.Create([1])

    BeamJob("old", entry_point=old_style, pipeline_options={}).execute(context_for("local"))

    assert seen == [{}]


def test_subclass_overriding_init_pipeline_needs_no_entry_point(tmp_path, context_for):
    class Counting(BeamJob):
        def init_pipeline(self, context, pipeline):
            count_words(pipeline, context, ["s t s"], str(tmp_path / "out"))

    Counting("sub", pipeline_options={}).execute(context_for("local"))

    assert read_lines(tmp_path / "out.txt") == ["s 2", "t 1"]


def test_beam_is_not_imported_until_a_job_runs():
    import subprocess
    import sys

    code = ("import sys; from bigflow.plugins import job_type; cls = job_type('beam'); "
            "cls('j', entry_point=lambda p, c: None, pipeline_options={}); "
            "print(cls.__name__, 'apache_beam' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.split() == ["BeamJob", "False"]


NOOP_WORKFLOW = """
import apache_beam as beam
from bigflow import Workflow
from bigflow_beam import BeamJob


def noop(pipeline, context):
    pipeline | beam.Create([1, 2]) | beam.Map(lambda x: x + 1)


noop_wf = Workflow("noop", [BeamJob("noop", entry_point=noop, pipeline_options={}, retry_count=0)])
"""


def test_a_run_shows_the_pipeline_running_on_a_terminal_only(beam_project):
    project = beam_project("beamprogress", '[tool.bigflow.environments.local]\nbeam_runner = "local"\n')
    project.module("workflows", NOOP_WORKFLOW)
    run = [str(Path(sys.executable).with_name("bigflow")), "run", "--workflow", "noop", "--log-format", "text"]
    shown_line = "running the Beam pipeline of noop on "

    code, shown = on_a_terminal(run, cwd=project.root)
    assert code == 0 and shown_line in shown and "0:00:0" in shown, shown
    code, quiet = on_a_terminal([*run, "-q"], cwd=project.root)
    assert code == 0 and shown_line not in quiet, quiet
    piped = subprocess.run(run, cwd=project.root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env=os.environ)
    assert piped.returncode == 0, piped.stderr
    assert shown_line not in piped.stderr and "\x1b[" not in piped.stdout + piped.stderr, piped.stderr
