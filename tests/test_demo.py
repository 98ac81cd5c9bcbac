"""End to end: the README's demo (scripts/demo.py) on this machine, and what each of its steps produced.

It creates a project with every installed plugin, runs each workflow offline, builds the wheel, the DAGs
and the image, pushes the image to a local registry, rehearses mixed_example's built DAG with the scaffold's
``rehearsal`` environment as generated in a local Airflow 2.10 and 3.x (each task a container of the pushed
image, rows into the BigQuery emulator the rehearsal starts) and plans a Composer deploy against
fake-gcs-server. The registry is this module's (the demo's own, started here and given with ``--registry``),
so that after the demo a job that raises, added to the demo's project, is rehearsed too. Needs what
``bash scripts/setup`` installs (engines, Airflow venvs, Docker engine and base image).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
WORKFLOWS = ["beam_wordcount", "bigquery_example", "hello", "mixed_example", "spark_orders"]
_spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
demo_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo_script)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """The demo's registry (its port: the image tags, and so the cached dependencies image, stay the same)."""
    with demo_script.registry(tmp_path_factory.mktemp("registry"), demo_script.REGISTRY_PORT) as host:
        yield host


@pytest.fixture(scope="module")
def demo(tmp_path_factory, registry) -> Iterator[tuple[Path, str, dict[int, list[dict]]]]:
    """The demo's project, its output, and each Airflow version's record of the rehearsal's containers."""
    work = tmp_path_factory.mktemp("demo")
    done = subprocess.run([str(PYTHON), str(ROOT / "scripts" / "demo.py"), "--work", str(work), "--registry",
                           registry], cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1500)
    assert done.returncode == 0, f"the demo failed (run bash scripts/setup first):\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}"
    project = work / "demo_project"
    containers = {major: [json.loads(line) for line in (project / "build" / "rehearsal" / f"airflow{major}" /
                                                        "containers.jsonl").read_text().splitlines()]
                  for major in (2, 3)}
    yield project, done.stdout, containers
    bigflow(project, "bigquery", "emulator", "stop", "--config", "rehearsal")  # a rehearsal below started it


def bigflow(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "bf_"))}
    return subprocess.run([str(ROOT / ".venv" / "bin" / "bigflow"), *args], cwd=project, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=900,
                          env={**environ, "DOCKER_HOST": demo_script.DOCKER_HOST})


def test_every_workflow_ran_offline_and_wrote_its_output(demo):
    project, out, _ = demo
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
    _, out, _ = demo
    assert "2026-01-15  blog  3\n2026-01-15  docs  3\n2026-01-15  home  6" in out  # an odd day: 4 pages


def test_release_and_build_manifest(demo):
    project, out, _ = demo
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    assert manifest["version"] == "0.1.0"  # 'bigflow release' tagged the first commit
    kinds = sorted(a["kind"] for a in manifest["artifacts"])
    assert kinds.count("dag") == len(WORKFLOWS)
    assert {"wheel", "image"} <= set(kinds), kinds
    image = next(a for a in manifest["artifacts"] if a["kind"] == "image")
    assert image["name"].endswith("/demo-project:0.1.0") and image["digest"].startswith("sha256:")


MIXED = ["count_words", "report", "wordcount", "create_tables", "load_page_views", "wait_for_page_views",
         "daily_views", "hourly_views", "aggregate_orders"]


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_the_rehearsal_ran_every_task_of_mixed_example_in_a_container_of_the_pushed_image(demo, registry, major):
    project, out, containers = demo
    image = f"{registry}/demo-project:0.1.0"
    rehearsal = out[out.index(f"mixed_example rehearsed on Airflow {major} (env rehearsal, image {image})"):]
    rows = {line.split()[2]: line.split()[3:] for line in rehearsal.splitlines()[2:]
            if line.startswith("2026-01-15 00:00:00")}
    assert rows.pop("bigflow-image")[0] == "success"
    assert sorted(rows) == sorted(MIXED)
    for task_id, (state, _tries, _duration, exit_code) in rows.items():
        assert (state, exit_code) == ("success", "0"), task_id  # the job's container exited with 0
    # every job ran once, in a container of the pushed image (the one the pinning task named)
    assert sorted(c["task_id"] for c in containers[major]) == sorted(MIXED)
    assert {(c["image"], c["exit_code"]) for c in containers[major]} == {(image, 0)}
    deployed = project / "build" / "rehearsal" / f"airflow{major}" / "dags" / "mixed_example.py"
    assert deployed.read_bytes() == (project / "build" / "dags" / "rehearsal" / "mixed_example.py").read_bytes()


def test_the_rehearsal_started_the_emulator_and_it_holds_the_rows_the_containers_wrote(demo):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    project, out, _ = demo
    assert (project / ".bigflow" / "bigquery-rehearsal" / "data").is_dir()  # the rehearsal's own emulator
    rows_written = out[out.index("Rows the containers wrote into the emulated BigQuery table daily_views"):]
    assert "2026-01-15  blog  3\n2026-01-15  docs  3\n2026-01-15  home  6" in rows_written
    # the demo stopped it; its data stays: started again (as the docs say), read with the official client
    started = bigflow(project, "bigquery", "emulator", "start", "--config", "rehearsal")
    assert started.returncode == 0, started.stderr
    try:
        client = bigquery.Client(project="demo-prod", credentials=AnonymousCredentials(),
                                 client_options=ClientOptions(api_endpoint="http://127.0.0.1:9050"))
        rows = client.query("SELECT CAST(day AS STRING) AS day, page, views FROM demo_project_example.daily_views "
                            "ORDER BY day, page").result()
        assert [tuple(row.values()) for row in rows] == [("2026-01-15", "blog", 3), ("2026-01-15", "docs", 3),
                                                         ("2026-01-15", "home", 6)]
    finally:
        bigflow(project, "bigquery", "emulator", "stop", "--config", "rehearsal")


FAILING = """
from bigflow.workflow import Job, Workflow


class CheckOrders(Job):
    def execute(self, context):
        raise RuntimeError(f"no orders for {context.runtime_str[:10]}")


workflow = Workflow("failing", [CheckOrders("check_orders", retry_count=0)], schedule_interval="@daily")
"""


def test_a_job_that_raises_fails_the_rehearsal_with_its_one_line_error(demo, registry):
    """A job added to the demo's project (its image rebuilt: only the code layers), rehearsed on Airflow 3."""
    project, _, _ = demo
    (project / "demo_project" / "failing_workflow.py").write_text(FAILING)
    demo_script.git(project, "add", "-A")
    demo_script.git(project, "commit", "--quiet", "-m", "A workflow whose job raises")  # version 0.1.0.dev1+g...
    for step in (["build", "image", "--config", "rehearsal", "--base-image", demo_script.BASE_IMAGE, "--quiet",
                  "--network", "host"], ["deploy", "image", "--config", "rehearsal"],
                 ["build", "dags", "--config", "rehearsal", "--start-time", "2026-01-01"]):
        done = bigflow(project, *step)
        assert done.returncode == 0, f"{step}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    done = bigflow(project, "airflow", "rehearse", "failing", "--config", "rehearsal", "--runtime", "2026-01-15",
                   "--airflow", "3", "--json")
    assert done.returncode == 1, done.stderr[-3000:]
    error = "check_orders failed: RuntimeError: no orders for 2026-01-15; --debug shows the traceback"
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: 1 task(s) did not succeed; check_orders of 2026-01-15 00:00:00: container exited with code 1: "
        f"1 of 1 job(s) of 'failing' did not succeed; first: {error}")
    (task,) = [r for r in json.loads(done.stdout) if r["task_id"] == "check_orders"]
    assert (task["state"], task["exit_code"]) == ("failed", 1) and task["error"].endswith(error)
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    (dag,) = [a for a in manifest["artifacts"] if a["kind"] == "dag" and a["details"]["workflow_id"] == "failing"]
    assert task["image"] == dag["details"]["image"]  # the rebuilt image, pushed and pulled
    assert task["image"].startswith(f"{registry}/demo-project:0.1.0.dev1-g")


def test_nothing_runs_the_bash_renderer_unless_asked(demo):
    project, out, _ = demo
    assert "airflow dags test" not in out and not (project.parent / "airflow").exists()


def test_pushed_image_and_composer_plan(demo):
    _, out, _ = demo
    assert "note: verified: the registry serves the digests that were pushed" in out
    for workflow_id in WORKFLOWS:
        assert f"  + gs://demo-composer-bucket/dags/demo_project/{workflow_id}.py" in out
    assert ": in the registry (sha256:" in out
    assert "What just happened" in out
