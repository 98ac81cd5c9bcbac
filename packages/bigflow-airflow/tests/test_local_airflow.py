"""The ``local-airflow`` target and ``bigflow airflow test``: a whole example workflow through
``airflow dags test`` on Airflow 2.10.5 and 3.3.x, its tasks calling this workspace's ``bigflow run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import airflow_venvs
import pytest
from airflow_projects import JOBS, fresh, make_project
from airflow_scenarios import EXAMPLE

from bigflow.api import environment
from bigflow.artifacts import Manifest
from bigflow.errors import BigflowError
from bigflow_airflow.local import LocalAirflowTarget

BIGFLOW = str(Path(sys.executable).parent / "bigflow")
FRAGILE = '''
from bigflow.workflow import Workflow
from .jobs import Step

fragile = Workflow("fragile", [Step("first", retry_count=0), Step("second", retry_count=0)])
'''


def local_project(root: Path, package: str, major: int | None):
    env = {"airflow_home": str(root / "airflow-home")}
    if major is not None:
        env["airflow_bin"] = str(airflow_venvs.venv(major) / "bin" / "airflow")
    return make_project(root / "project", package, {"jobs": JOBS, "workflows": EXAMPLE, "fragile": FRAGILE},
                        {"local": env}, name="example")


def airflow_test(project, workflow: str, marks: Path, *options: str, **env: str) -> subprocess.CompletedProcess:
    marks.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BIGFLOW_", "bf_"))}
    return subprocess.run([BIGFLOW, "airflow", "test", workflow, "--runtime", "2024-03-01 06:00:00",
                           "--config", "local", *options], cwd=project.root, capture_output=True, text=True, timeout=300,
                          env={**environ, "MARK_DIR": str(marks), **env})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, tuple[subprocess.CompletedProcess, Path]]:
    """`bigflow airflow test etl` on both Airflow versions at once (Airflow 3 alone takes half a minute)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(major: int):
        root = tmp_path_factory.mktemp(f"local{major}")
        project = local_project(root, f"af_local{major}", major)
        return airflow_test(project, "etl", root / "marks", "--json"), root / "marks"

    with ThreadPoolExecutor(2) as pool:
        return dict(zip((2, 3), pool.map(run, (2, 3)), strict=True))


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_a_whole_workflow_runs_through_airflow_dags_test(runs, major):
    done, marks = runs[major]
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    assert sorted(p.name for p in marks.iterdir()) == [  # every job ran once, with the DAG run's logical date
        f"etl.{job}@2024-03-01 06:00:00@local" for job in ("extract", "load", "transform")]
    assert "airflow dags test etl 2024-03-01T06:00:00+00:00" in done.stderr
    tasks = json.loads(done.stdout)  # --json: the run's task instances on stdout, Airflow's output on stderr
    assert sorted((t["task_id"], t["run"], t["state"], t["tries"]) for t in tasks) == [
        (job, "2024-03-01 06:00:00", "success", 1) for job in ("extract", "load", "transform")]
    # each task log line once (Airflow 2's `dags test` prints each twice in a row, with two timestamp formats)
    messages = [line.split("}", 1)[1] for line in done.stderr.splitlines() if "}" in line]
    assert (messages or major == 3) and not [a for a, b in zip(messages, messages[1:], strict=False) if a == b]


def test_a_failing_job_fails_the_command_in_one_line(tmp_path):
    project = local_project(tmp_path, "af_local_fail", 2)
    done = airflow_test(project, "fragile", tmp_path / "marks", FAIL_JOBS="first")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == \
        "Error: airflow dags test fragile failed with exit code 1; see its output above"
    assert list((tmp_path / "marks").iterdir()) == []  # 'second' never ran


def test_unknown_workflow_names_the_nearest(tmp_path):
    project = local_project(tmp_path, "af_local_unknown", 2)
    done = airflow_test(project, "etll", tmp_path / "marks")
    assert done.returncode == 2  # an unknown name is a usage error
    assert done.stderr.strip().splitlines()[-1] == "Error: unknown workflow 'etll'; did you mean 'etl'?"


def test_deploy_writes_only_this_projects_files(tmp_path):
    project = local_project(tmp_path, "af_local_deploy", 2)
    dags = tmp_path / "airflow-home" / "dags"
    (dags / "other").mkdir(parents=True)
    (dags / "other" / "theirs.py").write_text("# another project\n")
    (dags / "mine.py").write_text("# the user's own DAG\n")
    target = LocalAirflowTarget()
    plan = target.plan(project, None, environment("local", project), {})
    folder = dags / "example"
    assert plan.add == [str(folder / f) for f in ("etl.py", "fragile.py", "hello_world.py")]
    assert not folder.exists()  # plan wrote nothing
    target.deploy(project, None, environment("local", project), {})
    assert sorted(p.name for p in folder.iterdir()) == ["etl.py", "fragile.py", "hello_world.py"]
    assert f"RUN = {BIGFLOW + ' run --job '!r}" in (folder / "etl.py").read_text()
    again = target.deploy(fresh(project), None, environment("local", fresh(project)), {})
    assert (again.add, again.change, again.remove) == ([], [], [])
    (project.root / project.package / "fragile.py").unlink()
    removed = target.deploy(fresh(project), None, environment("local", fresh(project)), {})
    assert removed.remove == [str(folder / "fragile.py")]
    assert sorted(p.name for p in folder.iterdir()) == ["etl.py", "hello_world.py"]
    assert (dags / "other" / "theirs.py").exists() and (dags / "mine.py").exists()


def test_environments_without_a_local_airflow_are_skipped_by_the_target(tmp_path, monkeypatch, bigflow_cli):
    project = local_project(tmp_path, "af_local_skip", 2)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'airflow_home = "{tmp_path}/airflow-home"\n', ""))
    plan = LocalAirflowTarget().deploy(fresh(project), None, environment("local", fresh(project)), {})
    assert plan.add == [] and plan.notes[0].startswith("skipped: environment 'local' sets no airflow_home")
    monkeypatch.chdir(project.root)  # the explicit command deploys to $AIRFLOW_HOME
    done = bigflow_cli("airflow", "deploy", "--config", "local", env={"AIRFLOW_HOME": str(tmp_path / "home")})
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"3 DAG(s) in {tmp_path / 'home' / 'dags' / 'example'}"
    assert sorted(p.name for p in (tmp_path / "home" / "dags" / "example").iterdir()) == [
        "etl.py", "fragile.py", "hello_world.py"]


def test_airflow_not_installed_says_how_to_install_it(tmp_path, monkeypatch):
    project = local_project(tmp_path, "af_local_missing", None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BigflowError, match=r"^Airflow is not installed \(no 'airflow' on PATH\): install it in its "
                                           r"own venv .*pip install 'apache-airflow==2.10.5'\), then set airflow_bin"):
        LocalAirflowTarget().deploy(project, None, environment("local", project), {})
    assert not (tmp_path / "airflow-home").exists()
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'airflow_bin = "/nowhere/bin/airflow"\n')
    with pytest.raises(BigflowError, match=r"^airflow_bin = '/nowhere/bin/airflow' of environment 'local' is not an "
                                           r"executable: install it"):
        LocalAirflowTarget().plan(fresh(project), None, environment("local", fresh(project)), {})


def test_a_rewritten_dag_file_loses_its_cached_bytecode(tmp_path):
    from bigflow_airflow.local import forget_bytecode

    cache = tmp_path / "__pycache__"
    cache.mkdir()
    for name in ("etl.cpython-311.pyc", "etl.cpython-312.pyc", "etl_other.cpython-311.pyc"):
        (cache / name).write_bytes(b"")
    forget_bytecode(tmp_path / "etl.py")  # Python would trust it: same size and mtime second as the new file
    assert sorted(p.name for p in cache.iterdir()) == ["etl_other.cpython-311.pyc"]


def test_a_deploy_resolves_the_environment_and_loads_the_code_config_once(tmp_path, monkeypatch, bigflow_cli):
    from bigflow import environment

    project = local_project(tmp_path, "af_local_once", 2)
    (project.root / project.package / "config.py").write_text(
        "import bigflow\nconfig = bigflow.Config('local', {'greeting': 'hi'})\n")
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.bigflow]\n", "[tool.bigflow]\n"
                                                       f'config = "{project.package}.config:config"\n'))
    project = fresh(project)
    Manifest(project.name, "1.0.0", []).write(project.root)  # local-airflow renders its own DAG files
    calls = []
    real_resolve, real_load = environment.resolve, environment._code_configs
    monkeypatch.setattr(environment, "resolve", lambda *a, **k: calls.append("resolve") or real_resolve(*a, **k))
    monkeypatch.setattr(environment, "_code_configs", lambda p: calls.append("load") or real_load(p))
    monkeypatch.chdir(project.root)
    done = bigflow_cli("deploy", "local-airflow", "--config", "local")
    assert done.exit_code == 0, done.stderr
    assert (tmp_path / "airflow-home" / "dags" / "example" / "etl.py").is_file()
    assert calls == ["resolve", "load"]
