"""BigFlow 1.x's ``examples_project``, copied as is into a temporary directory: run as 1.x's docs show, built into
DAGs, and the DAGs loaded by Airflow 2 and 3. Used by ``run_1x_tests.py --examples``.

The project is copied unchanged and committed to a new git repository (``bigflow build`` versions it from git).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_TESTS = ROOT / "packages" / "bigflow-airflow" / "tests"

# The ``bigflow run`` commands of 1.x's docs (docs/cli.md, examples_project/README.md) for this project, with
# what each prints; every other workflow also runs as ``bigflow run --workflow ID``.
DOCUMENTED_RUNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("--workflow", "hello_world_workflow"), "Hello world"),
    (("--job", "hello_world_workflow.say_goodbye"), "Goodbye"),
    (("--workflow", "hello_world_workflow", "--runtime", "2020-08-01 10:00:00"), "Hello world"),
    (("--workflow", "hello_config_workflow"), "Message to print on DEV"),
    (("--workflow", "hello_config_workflow", "--config", "dev"), "Message to print on DEV"),
    (("--workflow", "hello_config_workflow", "--config", "prod"), "Message to print on PROD"),
    (("--workflow", "simple_workflow"), ""),
    (("--job", "simple_workflow.simple_job"), ""),
    (("--job", "hourly_workflow.hourly_job", "--runtime", "2020-08-01 12:00:00"), ""),
)
# 1.11.3's examples_project lacks resources/example_resource.txt, which resources_workflow prints: it fails on
# 1.x too. It runs without retries (one attempt) and must fail naming the file.
MISSING_RESOURCE = "example_resource.txt"


@dataclass
class Step:
    command: str
    exit_code: int
    ok: bool
    detail: str


def bigflow(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("bf_")}
    return subprocess.run([str(Path(sys.executable).parent / "bigflow"), *args], cwd=project, env=env,
                          capture_output=True, text=True)


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr.strip() or done.stdout.strip()).splitlines()
    return lines[-1] if lines else ""


def copy_project(checkout: Path, work: Path) -> Path:
    source = checkout / "examples_project"
    if not source.is_dir():
        raise SystemExit(f"error: {source} does not exist: the PyPI sdist has no examples_project; use a checkout "
                         "(git clone -b 1.11.3 https://github.com/allegro/bigflow)")
    project = work / "examples_project"
    shutil.copytree(source, project)
    git = ["git", "-c", "user.name=compat", "-c", "user.email=compat@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "examples_project of BigFlow 1.x"]):
        subprocess.run([*git, *args], cwd=project, check=True)
    return project


def run_steps(project: Path) -> list[Step]:
    steps = []
    listed = bigflow(project, "workflows", "list", "--json")
    records = json.loads(listed.stdout) if listed.stdout.strip() else []
    ids = sorted(record["workflow_id"] for record in records)
    broken = sorted(record["workflow_id"] for record in records if record.get("broken"))
    steps.append(Step("bigflow workflows list --json", listed.returncode, listed.returncode == 0 and bool(ids),
                      f"{len(ids)} workflows" + (f"; broken: {', '.join(broken)}: {last_line(listed)}" if broken else "")))
    documented = {args[1] for args, _ in DOCUMENTED_RUNS if args[0] == "--workflow"}
    runs = [*DOCUMENTED_RUNS, *((("--workflow", i), "") for i in ids if i not in documented)]
    for args, printed in runs:
        if args[1] == "resources_workflow":
            done = bigflow(project, "run", *args, "--no-retries")
            ok = done.returncode == 1 and MISSING_RESOURCE in done.stderr
        else:
            done = bigflow(project, "run", *args)
            ok = done.returncode == 0 and printed in done.stdout
        steps.append(Step(f"bigflow run {' '.join(args)}", done.returncode, ok, last_line(done)))
    built = bigflow(project, "build", "dags")
    dags = sorted(p.stem for p in (project / "build" / "dags").glob("*/*.py"))
    steps.append(Step("bigflow build dags", built.returncode, built.returncode == 0 and dags == ids,
                      f"{len(dags)} DAG files" if built.returncode == 0 else last_line(built)))
    if built.returncode != 0:  # then each workflow on its own, so the others are still built and loaded
        for workflow_id in [i for i in ids if i not in broken]:
            one = bigflow(project, "build", "dags", "--workflow", workflow_id)
            steps.append(Step(f"bigflow build dags --workflow {workflow_id}", one.returncode, one.returncode == 0,
                              last_line(one)))
    return steps


def load_in_airflow(folder: Path, work: Path) -> list[Step]:
    """Load the DAG folder with Airflow 2 and 3 (the venvs of bigflow-airflow's tests) at once."""
    sys.path.insert(0, str(AIRFLOW_TESTS))
    import airflow_venvs

    running = {}
    for major in (2, 3):
        home = work / f"airflow{major}"
        (home / "dags").mkdir(parents=True)
        out = home / "dump.json"
        running[major] = (out, subprocess.Popen(
            [airflow_venvs.python(major), str(AIRFLOW_TESTS / "dagbag_dump.py"), str(out), str(folder)],
            env=airflow_venvs.environment(home, major), cwd=home, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    steps = []
    for major, (out, process) in running.items():
        output, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            steps.append(Step(f"Airflow {major} DagBag", process.returncode, False, output.strip()[-300:]))
            continue
        data = json.loads(out.read_text())
        bag = data["bags"][str(folder)]
        errors = bag["import_errors"]
        steps.append(Step(f"Airflow {data['airflow']} DagBag", 0, not errors and bool(bag["dags"]),
                          f"{len(bag['dags'])} DAGs, {len(errors)} import errors"
                          + "".join(f"; {k}: {v.strip().splitlines()[-1]}" for k, v in errors.items())))
    return steps


def check_examples(checkout: Path) -> list[Step]:
    with tempfile.TemporaryDirectory(prefix="bigflow-1x-examples-") as tmp:
        project = copy_project(checkout, Path(tmp))
        steps = run_steps(project)
        folders = sorted((project / "build" / "dags").glob("*"))
        if folders:
            steps += load_in_airflow(folders[0], Path(tmp))
        return steps
