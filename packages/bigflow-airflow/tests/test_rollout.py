"""The rollout rule for running DAG runs (BigFlow 1.x issue #95), checked on real Airflow 2.10.5 and 3.3.x.

A DAG run uses the image that was current when it started: its first task (``bigflow-image``) returns the
image of the DAG file as parsed then, and every job renders its ``image`` from that task's XCom. Here, version
1.0.0 is deployed, run R1 starts (its first task runs), version 2.0.0 is deployed over it, run R2 starts; then
a job of R1 and a job of R2 are rendered from the *new* file, as a worker would after the deploy.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import airflow_venvs
import pytest
from airflow_projects import JOBS, build, make_project
from airflow_scenarios import EXAMPLE

STEPS = Path(__file__).with_name("airflow_steps.py")
OLD, NEW = "127.0.0.1:15500/example:1.0.0", "127.0.0.1:15500/example:2.0.0"


def steps(major: int, home: Path, v1: Path, v2: Path) -> list[dict]:
    date_flag = "-e" if major == 2 else "-l"  # --exec-date became --logical-date in Airflow 3
    # Airflow 2 renders templates with `tasks render`; Airflow 3's render cannot pull XComs outside a task,
    # so the job runs under `tasks test` (its pod cannot start here) and its rendered fields are read back
    render = "render" if major == 2 else "test"
    return [
        {"copy": [str(v1), str(home / "dags" / "etl.py")]},
        {"cli": ["db", "migrate"]},
        {"cli": ["dags", "reserialize"]},
        {"cli": ["dags", "trigger", "etl", "-r", "r1", date_flag, "2024-03-01T00:00:00+00:00"]},
        {"cli": ["dags", "trigger", "etl", "-r", "r2", date_flag, "2024-03-02T00:00:00+00:00"]},
        {"cli": ["tasks", "test", "etl", "bigflow-image", "r1"]},  # R1 starts with version 1.0.0 deployed
        {"copy": [str(v2), str(home / "dags" / "etl.py")]},  # the deploy of 2.0.0
        {"cli": ["tasks", "test", "etl", "bigflow-image", "r2"]},  # R2 starts after the deploy
        {"cli": ["tasks", render, "etl", "extract", "r1"]},
        {"cli": ["tasks", render, "etl", "extract", "r2"]},
    ]


def rendered(major: int, home: Path, results: list[dict], run_id: str) -> tuple[str, list[str]]:
    """(image, arguments) of the job 'extract' in run ``run_id``, as Airflow rendered them."""
    if major == 2:
        out = next(r["stdout"] for r in results if r["step"].get("cli", [])[-1:] == [run_id]
                   and r["step"]["cli"][1] == "render")
        image = re.search(r"# property: image\n# -+\n(.*)\n", out).group(1)
        arguments = re.search(r"# property: arguments\n# -+\n(.*)\n", out).group(1)
        return image, json.loads(arguments.replace("'", '"'))
    with sqlite3.connect(home / "airflow.db") as db:
        (fields,) = db.execute("select rendered_fields from rendered_task_instance_fields "
                               "where task_id = 'extract' and run_id = ?", (run_id,)).fetchone()
    fields = json.loads(fields)
    return fields["image"], fields["arguments"]


@pytest.fixture(scope="module")
def rollouts(tmp_path_factory) -> dict[int, tuple[Path, list[dict]]]:
    root = tmp_path_factory.mktemp("rollout")
    project = make_project(root / "project", "af_rollout", {"jobs": JOBS, "workflows": EXAMPLE},
                           {"dev": {"docker_repository": "127.0.0.1:15500/example"}}, name="example")
    versions = {}
    for version in ("1.0.0", "2.0.0"):
        manifest = build(project, "dev", version=version)
        artifact = next(a for a in manifest.of_kind("dag") if a.details["workflow_id"] == "etl")
        versions[version] = root / f"etl-{version}.py"
        shutil.copyfile(project.root / artifact.path, versions[version])
    running = {}
    for major in (2, 3):
        home = root / f"home{major}"
        (home / "dags").mkdir(parents=True)
        (home / "steps.json").write_text(json.dumps(steps(major, home, versions["1.0.0"], versions["2.0.0"])))
        log = (home / "steps.log").open("w")
        running[major] = (home, log, subprocess.Popen(
            [airflow_venvs.python(major), str(STEPS), str(home / "steps.json"), str(home / "out.json")],
            env=airflow_venvs.environment(home, major), stdout=log, stderr=subprocess.STDOUT, cwd=home))
    results = {}
    for major, (home, log, process) in running.items():
        assert process.wait(timeout=300) == 0, (home / "steps.log").read_text()[-3000:]
        log.close()
        results[major] = (home, json.loads((home / "out.json").read_text()))
    return results


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_a_run_keeps_the_image_it_started_with(rollouts, major):
    home, results = rollouts[major]
    failed = [r for r in results if r["error"] and r["step"].get("cli", [])[1:4] != ["test", "etl", "extract"]]
    assert not failed, failed[0]["error"][-2000:]
    image, arguments = rendered(major, home, results, "r1")
    assert image == OLD  # started before the deploy: still 1.0.0, although the file now names 2.0.0
    assert arguments == ["run", "--job", "etl.extract", "--runtime", "2024-03-01 00:00:00", "--config", "dev",
                         "--no-retries"]
    image, arguments = rendered(major, home, results, "r2")
    assert image == NEW  # started after the deploy
    assert arguments[4] == "2024-03-02 00:00:00"
