"""The starter: its word-count workflow runs with `bigflow run` in a fresh project, and its own test passes."""

from __future__ import annotations

import subprocess
import sys

from bigflow.plugins import host

EXPECTED = ["a: 2", "brown: 1", "dog: 2", "fox: 3", "happy: 1", "is: 1", "jumps: 1", "lazy: 1", "over: 1",
            "quick: 2", "sleeps: 1", "the: 3"]
CONTEXT = {"project_name": "word-demo", "package": "word_demo", "environments": ["local", "dev", "prod"],
           "gcp_project": "acme-dev"}


def starter():
    return host().contribution("starter", "beam")


def scaffold(beam_project):
    """A project made of the starter's files and environment settings, as start-project would write it."""
    settings = starter().environment_settings(CONTEXT)
    tables = "\n".join(
        f"[tool.bigflow.environments.{env}]\n" + "".join(f'{key} = "{value}"\n' for key, value in values.items()
                                                         if value is not None)
        for env, values in settings.items()
    )
    project = beam_project("word_demo", tables)
    project.write(starter().files(CONTEXT))
    return project


def test_the_starter_is_contributed_through_the_plugin(bigflow_host):
    files = starter().files(CONTEXT)

    assert sorted(files) == ["tests/test_beam_workflow.py", "word_demo/beam_workflow.py",
                             "word_demo/data/beam_words.txt"]
    assert "from word_demo.beam_workflow import workflow" in files["tests/test_beam_workflow.py"]
    assert starter().environment_settings(CONTEXT) == {
        "local": {"beam_runner": "local"},
        "dev": {"temp_location": "gs://acme-dev-dataflow/tmp",
                "wordcount_input": "gs://acme-dev-dataflow/beam_wordcount/input.txt",
                "wordcount_output": "gs://acme-dev-dataflow/beam_wordcount/dev/counts"},
        "prod": {"temp_location": "gs://acme-dev-dataflow/tmp",
                 "wordcount_input": "gs://acme-dev-dataflow/beam_wordcount/input.txt",
                 "wordcount_output": "gs://acme-dev-dataflow/beam_wordcount/prod/counts"},
        # prod's settings, offline in the image: the shipped sample in, /tmp out (None leaves prod's key out)
        "rehearsal": {"beam_runner": "local", "temp_location": None, "wordcount_input": None,
                      "wordcount_output": "/tmp/bigflow-output/beam_wordcount/counts"},
    }


def test_the_example_runs_with_bigflow_run_and_writes_the_counts(beam_project, bigflow_cli):
    project = scaffold(beam_project)

    result = bigflow_cli("run", "--workflow", "beam_wordcount")

    assert result.exit_code == 0, result.stderr
    assert "wordcount" in result.stdout and "success" in result.stdout
    output = project.root / "build" / "beam_wordcount" / "counts.txt"
    assert sorted(output.read_text().splitlines()) == EXPECTED


def test_the_starters_own_test_passes(beam_project):
    project = scaffold(beam_project)

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=project.root, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout
