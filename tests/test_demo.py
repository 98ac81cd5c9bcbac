"""End to end: the README's demo (scripts/demo.py) on this machine, and what each of its steps produced.

It creates a project with every installed plugin, runs each workflow offline, builds the wheel, the DAGs
and the image, runs a workflow in a local Airflow 2.10, pushes the image to a local registry and plans a
Composer deploy against fake-gcs-server. Needs what ``bash scripts/setup`` installs (engines, Airflow venv,
Docker engine and base image).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
WORKFLOWS = ["beam_wordcount", "bigquery_example", "hello", "mixed_example", "spark_orders"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("demo")
    done = subprocess.run([str(PYTHON), str(ROOT / "scripts" / "demo.py"), "--work", str(work)], cwd=ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    assert done.returncode == 0, f"the demo failed (run bash scripts/setup first):\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}"
    return work / "demo_project", done.stdout


def test_every_workflow_ran_offline_and_wrote_its_output(demo):
    project, out = demo
    for workflow_id in WORKFLOWS:
        assert f"2. Run workflow {workflow_id} offline" in out
    output = project / "build" / "output"
    report = (output / "hello" / "2026-01-15" / "report.txt").read_text()
    assert report.startswith("Hello from local for 2026-01-15")
    spark = "".join(p.read_text() for p in (output / "spark_orders" / "2026-01-15").glob("part-*"))
    assert "DE,2,40.0" in spark and "PL,3,60.0" in spark
    beam = (project / "build" / "beam_wordcount" / "counts.txt").read_text().splitlines()
    assert "fox: 3" in beam and "the: 3" in beam


def test_bigquery_rows_of_the_run_are_shown(demo):
    _, out = demo
    assert "2026-01-15  blog  3\n2026-01-15  docs  3\n2026-01-15  home  6" in out  # an odd day: 4 pages


def test_release_and_build_manifest(demo):
    project, out = demo
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    assert manifest["version"] == "0.1.0"  # 'bigflow release' tagged the first commit
    kinds = sorted(a["kind"] for a in manifest["artifacts"])
    assert kinds.count("dag") == len(WORKFLOWS)
    assert {"wheel", "image"} <= set(kinds), kinds
    image = next(a for a in manifest["artifacts"] if a["kind"] == "image")
    assert image["name"].endswith("/demo-project:0.1.0") and image["digest"].startswith("sha256:")


def test_local_airflow_ran_the_hello_dag(demo):
    _, out = demo
    assert "DagRun Finished: dag_id=hello" in out and "state=success" in out


def test_pushed_image_and_composer_plan(demo):
    _, out = demo
    assert "note: verified: the registry serves the digests that were pushed" in out
    for workflow_id in WORKFLOWS:
        assert f"  + gs://demo-composer-bucket/dags/demo_project/{workflow_id}.py" in out
    assert ": in the registry (sha256:" in out
    assert "What just happened" in out
