"""A pipeline still running at the job's deadline is cancelled (not abandoned) and leaves no output."""

from __future__ import annotations

import threading
import time

import apache_beam as beam
import pytest
from apache_beam.testing import test_stream
from apache_beam.transforms.window import FixedWindows

from bigflow_beam import BeamJob
from bigflow_beam.errors import PipelineTimeout


def slow_steps(x):
    for _ in range(600):  # 30 s in short steps
        time.sleep(0.05)
    return x


def slow_batch(pipeline, context, output):
    (pipeline
     | beam.Create(["a", "b"])
     | beam.Map(slow_steps)
     | beam.io.WriteToText(output, shard_name_template=""))


def slow_stream(pipeline, context, output):
    stream = test_stream.TestStream().add_elements(["a"]).advance_watermark_to_infinity()
    (pipeline
     | stream
     | beam.Map(slow_steps)
     | beam.WindowInto(FixedWindows(60))
     | beam.io.WriteToText(output, shard_name_template=""))


def pipeline_threads() -> list[threading.Thread]:
    """Threads still running a pipeline: bigflow's, and BundleBasedDirectRunner workers busy with a bundle."""
    return [t for t in threading.enumerate() if t.name == "bigflow-beam-pipeline" or "(executing)" in t.name]


@pytest.mark.parametrize("runner, build, options", [
    ("local", slow_batch, {}),
    ("BundleBasedDirectRunner", slow_stream, {"streaming": True}),
])
def test_deadline_cancels_the_pipeline_and_fails_the_job(runner, build, options, tmp_path, context_for):
    job = BeamJob("slow", entry_point=build, entry_point_args=(str(tmp_path / "out"),), pipeline_options=options,
                  execution_timeout_sec=3)
    started = time.monotonic()

    with pytest.raises(PipelineTimeout) as raised:
        job.execute(context_for("local", beam_runner=runner))

    elapsed = time.monotonic() - started
    assert str(raised.value) == ("BeamJob 'slow' timed out: still running after 2.7 s (execution_timeout_sec=3); "
                                 "the pipeline was cancelled")
    assert isinstance(raised.value, TimeoutError)
    assert 2.7 <= elapsed < 6, elapsed
    assert not pipeline_threads(), "the pipeline thread is still running"
    assert not (tmp_path / "out").exists()


def test_the_deadline_leaves_120_s_for_cancelling_long_jobs():
    job = BeamJob("long", entry_point=lambda p, c: None, pipeline_options={}, execution_timeout_sec=3600)

    assert job._pipeline_timeout() == (3480, 120)


def test_no_timeout_without_wait_until_finish():
    with pytest.raises(ValueError, match="execution_timeout_sec needs wait_until_finish=True"):
        BeamJob("x", entry_point=lambda p, c: None, pipeline_options={}, wait_until_finish=False,
                execution_timeout_sec=10)
