"""``bigflow migrate``: a BigFlow 1.x project (as 1.11.3's start-project made it) into [tool.bigflow]."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from bigflow.environment import resolve
from bigflow.project import find_project

SETUP_PY = """\
#!/usr/bin/env python
import bigflow.build

bigflow.build.setup(
    name='wordcount_project',
    test_framework='pytest',
    author='data team',
)
"""
PYPROJECT = """\
[build-system]
requires = ["bigflow==1.11.3"]
build-backend = "bigflow.build.meta"

[tool.black]
line-length = 100
"""
DEPLOYMENT_CONFIG = """\
from bigflow.configuration import DeploymentConfig

deployment_config = DeploymentConfig(
    name='dev',
    properties={
       'docker_repository': 'europe-west1-docker.pkg.dev/acme-dev/images/wordcount',
       'gcp_project_id': 'acme-dev',
       'dags_bucket': 'europe-west1-dev-bucket',
       'temp_location': 'gs://{gcp_project_id}-temp/{env}',
    }).add_configuration(name='prod', properties={
       'gcp_project_id': 'acme-prod',
       'dags_bucket': 'europe-west1-prod-bucket',
       'vault_secret': None,
    })
"""
DOCKERFILE_1X = """\
FROM python:3.7.9-slim-buster
WORKDIR /app
COPY ./resources/requirements.txt requirements.txt
RUN pip install --no-cache-dir -r requirements.txt
COPY ./dist dist
RUN pip install dist/*.whl
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def legacy(tmp_path, monkeypatch) -> Path:
    """A 1.x project, committed to git."""
    root = tmp_path / "wordcount"
    files = {
        "setup.py": SETUP_PY, "pyproject.toml": PYPROJECT, "deployment_config.py": DEPLOYMENT_CONFIG,
        "Dockerfile": DOCKERFILE_1X, "wordcount_project/__init__.py": "",
        "resources/requirements.in": "bigflow[bigquery,log,dataproc,dataflow]==1.11.3\nrequests>=2  # http\n",
        "test/test_nothing.py": "def test_nothing():\n    pass\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "1.x project")
    monkeypatch.chdir(root)
    find_project.cache_clear()
    return root


def test_migrate_writes_tool_bigflow_and_retires_the_1x_files(bigflow_cli, legacy):
    assert find_project().legacy
    result = bigflow_cli("migrate")
    assert result.exit_code == 0, result.stderr
    plugins = ["bigflow-bigquery>=0.1,<1", "bigflow-spark>=0.1,<1", "bigflow-beam>=0.1,<1"]
    assert result.stdout.splitlines() == [
        "resources/requirements.in: the 1.x 'bigflow' requirement -> bigflow-core>=0.1,<1, " + ", ".join(plugins),
        "pyproject.toml: [project] wordcount-project (5 dependencies), [tool.bigflow] package 'wordcount_project', "
        "2 environment(s): dev, prod",
        "removed setup.py (git keeps the 1.x version)",
        "removed Dockerfile (git keeps the 1.x version)",
        "note: setup.py options not carried over: author",
        "note: kept deployment_config.py: it holds vault_secret, secret or set from bf_* variables, which "
        "pyproject.toml cannot hold; it still applies over pyproject.toml",
        "note: bigflow build image now uses core's Dockerfile (dependencies, wheel, non-root user); put your "
        "changes into a copy of it (see docs/lifecycle.md)",
        "Next: bigflow build requirements && bigflow run --workflow ID",
    ]
    data = tomllib.loads((legacy / "pyproject.toml").read_text())
    assert data["tool"]["black"] == {"line-length": 100}  # other tables are kept
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert data["project"]["name"] == "wordcount-project"
    assert data["project"]["dependencies"] == ["bigflow-core>=0.1,<1", *plugins, "requests>=2"]
    settings = data["tool"]["bigflow"]
    assert settings["package"] == "wordcount_project"
    assert settings["default-environment"] == "dev"
    assert settings["requirements"] == "resources/requirements.in"
    assert settings["required-plugins"] == plugins
    assert settings["environments"]["dev"] == {
        "docker_repository": "europe-west1-docker.pkg.dev/acme-dev/images/wordcount", "gcp_project_id": "acme-dev",
        "dags_bucket": "europe-west1-dev-bucket", "temp_location": "gs://acme-dev-temp/dev"}
    assert settings["environments"]["prod"]["gcp_project_id"] == "acme-prod"
    assert settings["environments"]["prod"]["temp_location"] == "gs://acme-prod-temp/prod"  # master value, expanded
    assert "vault_secret" not in settings["environments"]["prod"]
    assert (legacy / "resources/requirements.in").read_text().splitlines()[0] == "bigflow-core>=0.1,<1"
    assert sorted(p.name for p in legacy.iterdir() if p.is_file()) == ["deployment_config.py", "pyproject.toml"]


def test_the_migrated_project_resolves_its_environments(bigflow_cli, legacy, monkeypatch):
    assert bigflow_cli("migrate").exit_code == 0
    find_project.cache_clear()
    project = find_project()
    assert not project.legacy and project.package == "wordcount_project"
    monkeypatch.setenv("bf_vault_secret", "s3cret")
    prod = resolve(project, "prod")
    assert prod["gcp_project_id"] == "acme-prod"
    assert prod["vault_secret"] == "s3cret"  # still from deployment_config.py, as declared there


def test_the_migrated_project_builds_its_wheel(bigflow_cli, legacy):
    assert bigflow_cli("migrate").exit_code == 0
    git(legacy, "add", "-A")
    git(legacy, "commit", "-qm", "migrated")
    git(legacy, "tag", "v2.0.0")
    find_project.cache_clear()
    # the plugins the project now requires must load (core's tests disable plugins by default)
    result = bigflow_cli("build", "package", "--skip-tests", env={"BIGFLOW_LOAD_PLUGINS": None})
    assert result.exit_code == 0, result.stderr
    assert (legacy / "dist/wordcount_project-2.0.0-py3-none-any.whl").is_file()


def test_migrate_is_idempotent(bigflow_cli, legacy):
    assert bigflow_cli("migrate").exit_code == 0
    after = {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file() and ".git" not in p.parts}
    again = bigflow_cli("migrate")
    assert again.exit_code == 0
    assert again.stdout == f"Nothing to change: {legacy / 'pyproject.toml'} already has [tool.bigflow]\n"
    assert {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file() and ".git" not in p.parts} == after


def test_a_fully_literal_config_is_retired_and_changed_files_are_renamed(bigflow_cli, legacy):
    literal = DEPLOYMENT_CONFIG.replace("'vault_secret': None,", "")
    (legacy / "deployment_config.py").write_text(literal)  # not committed: git could not give it back
    result = bigflow_cli("migrate")
    assert result.exit_code == 0, result.stderr
    assert "renamed deployment_config.py -> deployment_config.py.1x" in result.stdout.splitlines()
    assert not (legacy / "deployment_config.py").exists()
    assert (legacy / "deployment_config.py.1x").read_text() == literal


def test_dry_run_changes_nothing(bigflow_cli, legacy):
    before = {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file() and ".git" not in p.parts}
    result = bigflow_cli("migrate", "--dry-run")
    assert result.exit_code == 0
    assert "(dry run) would retire setup.py" in result.stdout.splitlines()
    assert {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file() and ".git" not in p.parts} == before


def test_not_a_1x_project_is_one_line(bigflow_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = bigflow_cli("migrate")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {tmp_path} is not a BigFlow 1.x project (no setup.py with bigflow.build.setup(name=...), "
        "no deployment_config.py)"]
