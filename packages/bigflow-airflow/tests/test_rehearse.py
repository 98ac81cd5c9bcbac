"""``bigflow airflow rehearse`` on real Airflow 2.10.5 and 3.3.x, a real Docker engine and a real registry.

One core-only project (``start-project`` without plugins, plus the workflow ``steps`` below) is built once: its
image pushed to the session's registry, its DAGs built for the environment ``rehearsal``. Each Airflow version
then rehearses two days of ``steps`` (both versions at once, on different days) while a small HTTP server on
127.0.0.1 plays the outside world the jobs talk to from their containers:

- ``flaky`` fails its first try of each day and succeeds on the retry (retries); on the first day its retry
  waits until the test has redeployed version 2.0.0 of the DAG over the running rehearsal (the rollout rule);
- ``gate`` raises on the first day (the job's one-line error), so on the second day ``depends_on_past`` holds it;
- ``hang`` sleeps past its ``execution_timeout`` (killed, its container removed), so it too is held on the
  second day.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import airflow_venvs
import pytest

BIGFLOW = str(Path(sys.executable).parent / "bigflow")
DOCKER_HOST = f"unix://{airflow_venvs.cache_dir() / 'docker' / 'docker.sock'}"
BASE_IMAGE = "local/python:3.11-bookworm"
DAYS = {2: ("2026-01-15", "2026-01-16"), 3: ("2026-02-15", "2026-02-16")}

STEPS = '''
import time
import urllib.request

from bigflow.workflow import Job, Workflow


def ask(context, what):
    with urllib.request.urlopen(f"{context.config['world_url']}/{what}", timeout=5) as response:
        return response.read().decode()


class Flaky(Job):
    def execute(self, context):
        day = context.runtime_str[:10]
        if ask(context, f"hit/flaky/{day}") == "1":
            raise RuntimeError(f"flaky fails its first try of {day}")
        while ask(context, f"go/{day}") != "go":
            time.sleep(0.2)


class Gate(Job):
    def execute(self, context):
        if context.runtime.day == 15:
            raise RuntimeError(f"no data for {context.runtime_str[:10]}")


class Hang(Job):
    def execute(self, context):
        time.sleep(600)


flaky = Flaky("flaky", retry_count=1, retry_pause_sec=1)
workflow = Workflow("steps", {flaky: [Gate("gate", retry_count=0)], Hang("hang", retry_count=0,
                    execution_timeout_sec=3): []}, schedule_interval="@daily")
'''


class World(BaseHTTPRequestHandler):
    """``/hit/KEY`` counts calls; ``/go/DAY`` answers ``go`` unless the day is held."""

    hits: dict[str, int] = {}
    held: set[str] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        kind, _, key = self.path.strip("/").partition("/")
        with self.lock:
            if kind == "hit":
                self.hits[key] = self.hits.get(key, 0) + 1
                body = str(self.hits[key])
            else:
                body = "wait" if key in self.held else "go"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "bf_"))}
    return subprocess.run([BIGFLOW, *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600, env={**environ, "DOCKER_HOST": DOCKER_HOST, **env})


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def world():
    server = ThreadingHTTPServer(("127.0.0.1", 0), World)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    World.held.update(days[0] for days in DAYS.values())
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def project(tmp_path_factory, registry, world) -> Path:
    """The project, version 1.0.0: image pushed, DAGs built for 'rehearsal' (starting 2026-01-01)."""
    name = "rehearsed_steps"  # a fixed name: its dependencies image stays cached in the engine between runs
    root = tmp_path_factory.mktemp("rehearse") / name
    ok(run(["start-project", name, "--no-input"], root.parent, BIGFLOW_LOAD_PLUGINS=""))
    (root / name / "steps.py").write_text(STEPS)
    settings = {"docker_repository": f"{registry.host}/{name}", "world_url": world,
                "airflow2_bin": str(airflow_venvs.venv(2) / "bin" / "airflow"),
                "airflow3_bin": str(airflow_venvs.venv(3) / "bin" / "airflow")}
    pyproject = root / "pyproject.toml"  # the scaffold's rehearsal environment, plus this test's world
    header = "[tool.bigflow.environments.rehearsal]\n"
    assert header in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(header, header + "".join(
        f"{key} = {json.dumps(value)}\n" for key, value in settings.items()), 1))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"], ["tag", "1.0.0"]):
        subprocess.run([*git, *command], cwd=root, check=True)
    ok(run(["build", "image", "--config", "rehearsal", "--base-image", BASE_IMAGE, "--quiet"], root))
    ok(run(["deploy", "image", "--config", "rehearsal"], root))
    ok(run(["build", "dags", "--config", "rehearsal", "--start-time", "2026-01-01"], root))
    return root


def version_2(root: Path) -> tuple[Path, str]:
    """The DAG file of version 2.0.0 (as `bigflow build dags` renders it) and its image, pushed."""
    from airflow_projects import fresh

    from bigflow.project import find_project
    from bigflow_airflow.builder import render_dags

    (dag,) = [d for d in render_dags(fresh(find_project(root)), "rehearsal", version="2.0.0",
                                     start_time="2026-01-01") if d.spec.workflow_id == "steps"]
    path = root.parent / "steps-2.0.0.py"
    path.write_text(dag.text)
    old = dag.spec.image.replace(":2.0.0", ":1.0.0")
    docker = {**os.environ, "DOCKER_HOST": DOCKER_HOST}
    for command in (["tag", old, dag.spec.image], ["push", "--quiet", dag.spec.image]):
        subprocess.run(["docker", *command], check=True, capture_output=True, env=docker)
    return path, dag.spec.image


@pytest.fixture(scope="module")
def rehearsals(project) -> dict[int, dict]:
    """Both Airflow versions rehearse their two days at once; version 2.0.0 is deployed during the first."""
    v2, image_2 = version_2(project)
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    (dag,) = [a for a in manifest["artifacts"] if a["kind"] == "dag" and a["details"]["workflow_id"] == "steps"]
    outcome: dict[int, dict] = {}

    def rehearse(major: int) -> None:
        first, last = DAYS[major]
        process = subprocess.Popen(
            [BIGFLOW, "airflow", "rehearse", "steps", "--config", "rehearsal", "--airflow", str(major), "--from",
             first, "--to", last, "--json"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}, "DOCKER_HOST": DOCKER_HOST})
        deployed = project / "build" / "rehearsal" / f"airflow{major}" / "dags" / dag["name"]
        deadline = time.monotonic() + 300
        while World.hits.get(f"flaky/{first}", 0) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # until the retry of the first day's flaky runs (and waits for the go-ahead)
        outcome[major] = {"during": hashlib.sha256(deployed.read_bytes()).hexdigest()}
        shutil.copyfile(v2, deployed)  # the redeploy, while the first day's run is in flight
        with World.lock:
            World.held.discard(first)
        out, err = process.communicate(timeout=600)
        outcome[major].update(code=process.returncode, out=out, err=err)

    threads = [threading.Thread(target=rehearse, args=(major,)) for major in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for major in (2, 3):
        outcome[major].update(dag=dag, image_2=image_2, project=project)
    return outcome


def by_task(results: list[dict], day: str) -> dict[str, dict]:
    return {r["task_id"]: r for r in results if r["run"].startswith(day)}


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_the_dag_file_rehearsed_is_the_manifests_byte_for_byte(rehearsals, major):
    outcome = rehearsals[major]
    assert "sha256:" + outcome["during"] == outcome["dag"]["digest"], outcome["err"][-2000:]


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_two_days_with_retries_timeout_depends_on_past_and_a_redeploy(rehearsals, major):
    outcome = rehearsals[major]
    assert outcome["code"] == 1, outcome["err"][-3000:]
    first, last = DAYS[major]
    assert outcome["err"].strip().splitlines()[-1] == (
        f"Error: 4 task(s) did not succeed; gate of {first} 00:00:00: container exited with code 1: 1 of 1 job(s) "
        f"of 'steps' did not succeed; first: gate failed: RuntimeError: no data for {first}; --debug shows the traceback")
    results = json.loads(outcome["out"])
    day1, day2 = by_task(results, first), by_task(results, last)
    image_1 = outcome["dag"]["details"]["image"]
    # the image pinning task ran first in each run, then every job in a container of the pushed image
    assert day1["bigflow-image"]["state"] == day2["bigflow-image"]["state"] == "success"
    # retries: the first try failed, the retry succeeded, in the run's image, although 2.0.0 was deployed meanwhile
    assert (day1["flaky"]["state"], day1["flaky"]["tries"], day1["flaky"]["exit_code"]) == ("success", 2, 0)
    assert day1["flaky"]["image"] == image_1
    # the rollout rule: the run that started after the redeploy uses the new image
    assert (day2["flaky"]["state"], day2["flaky"]["tries"], day2["flaky"]["image"]) == ("success", 2,
                                                                                        outcome["image_2"])
    assert (day1["gate"]["state"], day1["gate"]["tries"], day1["gate"]["exit_code"]) == ("failed", 1, 1)
    # execution_timeout killed the hanging job within seconds (and removed its container, below)
    assert day1["hang"]["state"] == "failed" and day1["hang"]["error"].startswith("AirflowTaskTimeout"), day1["hang"]
    assert day1["hang"]["seconds"] < 30
    for task_id in ("gate", "hang"):  # depends_on_past: the first day failed, so the second day's never ran
        assert day2[task_id]["state"] != "success" and day2[task_id]["exit_code"] is None, day2[task_id]
    record = outcome["project"] / "build" / "rehearsal" / f"airflow{major}" / "containers.jsonl"
    names = {json.loads(line)["container"] for line in record.read_text().splitlines()}
    assert len(names) == 6  # flaky twice a day, gate and hang on the first day
    left = subprocess.run(["docker", "ps", "--all", "--format", "{{.Names}}"], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": DOCKER_HOST})
    assert names.isdisjoint(left.stdout.split())  # every container of the rehearsal is gone
