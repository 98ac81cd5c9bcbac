"""End to end: the README's demo (scripts/demo.py) on this machine, and what each of its steps produced.

It creates a project with every installed plugin, runs each workflow offline, builds the wheel, the DAGs
and the image, pushes the image to a local registry, rehearses mixed_example's built DAG in a local Airflow
2.10 (each task a container of the pushed image, rows into the BigQuery emulator) and plans a Composer deploy
against fake-gcs-server. Needs what ``bash scripts/setup`` installs (engines, Airflow venv,
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
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1500)
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


MIXED = ["count_words", "report", "wordcount", "create_tables", "load_page_views", "wait_for_page_views",
         "daily_views", "hourly_views", "aggregate_orders"]


def test_the_rehearsal_ran_every_task_of_mixed_example_in_a_container_of_the_pushed_image(demo):
    project, out = demo
    rehearsal = out[out.index("mixed_example rehearsed on Airflow 2 (env rehearsal, image 127.0.0.1:"):]
    assert rehearsal.splitlines()[0].endswith("/demo-project:0.1.0)")
    rows = {line.split()[2]: line.split()[3:] for line in rehearsal.splitlines()[2:]
            if line.startswith("2026-01-15 00:00:00")}
    assert rows.pop("bigflow-image")[0] == "success"
    assert sorted(rows) == sorted(MIXED)
    for task_id, (state, _tries, _duration, exit_code) in rows.items():
        assert (state, exit_code) == ("success", "0"), task_id  # the job's container exited with 0
    rows_written = out[out.index("Rows the containers wrote into the emulated BigQuery table daily_views"):]
    assert "2026-01-15  blog  3\n2026-01-15  docs  3\n2026-01-15  home  6" in rows_written
    deployed = project / "build" / "rehearsal" / "airflow2" / "dags" / "mixed_example.py"
    assert deployed.read_bytes() == (project / "build" / "dags" / "rehearsal" / "mixed_example.py").read_bytes()


def test_nothing_runs_the_bash_renderer_unless_asked(demo):
    project, out = demo
    assert "airflow dags test" not in out and not (project.parent / "airflow").exists()


def test_pushed_image_and_composer_plan(demo):
    _, out = demo
    assert "note: verified: the registry serves the digests that were pushed" in out
    for workflow_id in WORKFLOWS:
        assert f"  + gs://demo-composer-bucket/dags/demo_project/{workflow_id}.py" in out
    assert ": in the registry (sha256:" in out
    assert "What just happened" in out
