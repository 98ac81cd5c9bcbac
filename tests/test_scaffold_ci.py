"""The GitHub Actions CI that ``bigflow start-project`` generates, run as written on this machine.

bigflow's packages are on no public index, so the generated CI takes them from where the team publishes
their wheels: the repository variable ``BIGFLOW_INDEX_URL`` or ``BIGFLOW_FIND_LINKS`` (pip's
``PIP_EXTRA_INDEX_URL``/``PIP_FIND_LINKS`` in the workflow's ``env``). Here the wheels are built with the
command of the generated README's "CI" section, and the test job's ``run`` steps run in order, as GitHub's
default shell runs them, in a fresh venv (what ``actions/setup-python`` gives), with ``vars.*`` expanded and
``RUNNER_TEMP`` set; PyPI is this repository's wheelhouse (``PIP_NO_INDEX=1`` plus the wheelhouse in the
find-links). The project is scaffolded with only bigflow-airflow loaded, so it depends on bigflow-core and
bigflow-airflow alone and the fresh venv installs in seconds. ``bigflow build package`` is left out: it locks
and builds with uv from PyPI (tests/test_tutorial.py builds a project's package).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_tutorial import shell_env
from tutorial_blocks import shell_blocks

from support import ROOT

VARIABLE = re.compile(r"\$\{\{\s*vars\.(\w+)\s*\}\}")
NOT_RUN = "bigflow build package"


def expand(text: str, variables: dict[str, str]) -> str:
    """``text`` with GitHub's ``${{ vars.NAME }}`` expanded (empty when unset, as on GitHub)."""
    expanded = VARIABLE.sub(lambda match: variables.get(match[1], ""), text)
    assert "${{" not in expanded, f"an expression this test does not emulate: {text}"
    return expanded


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("scaffold-ci")
    subprocess.run([sys.executable, "-m", "bigflow", "start-project", "shop", "--no-input", "--gcp-project",
                    "acme-dev", "--region", "europe-west1", "--dags-bucket", "acme-bucket"], cwd=base, check=True,
                   env={**os.environ, "BIGFLOW_LOAD_PLUGINS": "bigflow-airflow"}, capture_output=True)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
        subprocess.run(["git", *command], cwd=base / "shop", check=True, env=shell_env({}))
    return base / "shop"


@pytest.fixture(scope="module")
def ci(shop: Path) -> dict:
    return yaml.safe_load((shop / ".github/workflows/ci.yml").read_text())


@pytest.fixture(scope="module")
def runner(shop: Path, wheelhouse: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """``run(script, variables)``: one ``run`` step as GitHub runs it, in the fresh venv, in the checkout."""
    temp = tmp_path_factory.mktemp("runner")
    venv = temp / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    base = shell_env({"RUNNER_TEMP": str(temp), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    base["PATH"] = f"{venv / 'bin'}{os.pathsep}{base['PATH']}"

    def run(script: str, variables: dict[str, str], workflow_env: dict[str, str],
            cwd: Path = shop) -> subprocess.CompletedProcess[str]:
        environ = {**base, **{k: expand(str(v), variables) for k, v in workflow_env.items()}}
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(script, variables)],
                              cwd=cwd, env=environ, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=900)

    return run


def run_steps(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_without_a_source_of_bigflow_the_first_step_stops_with_one_line(ci, runner):
    first = run_steps(ci["jobs"]["test"])[0]
    for job in ci["jobs"].values():  # every job checks before it installs
        assert run_steps(job)[0] == first
    done = runner(first, {}, ci["env"])
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "::error::pip finds no bigflow-core>=0.1,<1: set the repository variable BIGFLOW_INDEX_URL or "
        "BIGFLOW_FIND_LINKS to where bigflow's wheels are (see README.md, CI)"] and not done.stderr


def test_with_bigflow_find_links_it_installs_and_builds_the_dags(shop, ci, runner, wheelhouse, tmp_path):
    (tmp_path / "bigflow").symlink_to(ROOT, target_is_directory=True)  # the clone the README starts from
    (block,) = [b for b in shell_blocks((shop / "README.md").read_text()) if "pip wheel" in b.script]
    built = runner(block.script, {}, {"PIP_FIND_LINKS": wheelhouse["PIP_FIND_LINKS"]}, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "bigflow-wheels").glob("*.whl")) == [
        "bigflow_airflow", "bigflow_core"]

    variables = {"BIGFLOW_FIND_LINKS": f"{tmp_path / 'bigflow-wheels'} {wheelhouse['PIP_FIND_LINKS']}"}
    steps = [step for step in run_steps(ci["jobs"]["test"]) if not step.startswith(NOT_RUN)]
    assert steps[1:] == ["pip install -e '.[dev]'", "bigflow build dags"]
    for step in steps:
        done = runner(step, variables, ci["env"])
        assert done.returncode == 0, f"{step}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert sorted(p.name for p in (shop / "build/dags/local").glob("*.py")) == ["hello.py"]
    deploy_install = run_steps(ci["jobs"]["deploy"])[1]
    assert deploy_install.startswith("pip install -e '.[dev]'")
    done = runner(deploy_install, variables, ci["env"])
    assert done.returncode == 0, done.stderr[-3000:]
