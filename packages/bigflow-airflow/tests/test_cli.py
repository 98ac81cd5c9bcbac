"""Through the CLI: ``bigflow build dags``, ``bigflow plan composer``, ``bigflow deploy composer`` in a git
project, against fake-gcs-server and the local registry; what a deploy shows on a terminal, with ``-q`` and
piped; unknown names (exit 2, the nearest valid one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from airflow_projects import JOBS, make_project
from airflow_scenarios import EXAMPLE
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bigflow import exit_codes
from bigflow.testing.terminal import on_a_terminal
from bigflow.versioning import project_version

GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def test_build_plan_deploy_through_the_cli(tmp_path, monkeypatch, bigflow_cli, gcs_endpoint, registry):
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_endpoint})
    client.create_bucket("cli-bucket")
    env = {"docker_repository": f"{registry.host}/cli/example", "dags_bucket": "cli-bucket",
           "storage_endpoint": gcs_endpoint}
    project = make_project(tmp_path / "example", "af_cli", {"jobs": JOBS, "workflows": EXAMPLE},
                           {"dev": env}, name="example")
    (project.root / ".gitignore").write_text("build/\n.bigflow/\n__pycache__/\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *command], cwd=project.root, check=True, env={"PATH": "/usr/bin:/bin", **GIT})
    version = project_version(project.root)
    monkeypatch.chdir(project.root)

    built = bigflow_cli("build", "dags", "--config", "dev", "--json")
    assert built.exit_code == 0, built.stderr
    dags = [a for a in built.json()["artifacts"] if a["kind"] == "dag"]
    assert sorted(a["name"] for a in dags) == ["etl.py", "hello_world.py"]
    assert {a["details"]["image"] for a in dags} == {f"{registry.host}/cli/example:{version.replace('+', '-')}"}

    missing = bigflow_cli("deploy", "composer", "--config", "dev")
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines()[-1].startswith(f"Error: image {registry.host}/cli/example:")
    assert list(client.list_blobs("cli-bucket")) == []

    registry.push("cli/example", version.replace("+", "-"))
    planned = bigflow_cli("plan", "composer", "--config", "dev")
    assert planned.exit_code == 0, planned.stderr
    assert "  + gs://cli-bucket/dags/example/etl.py" in planned.stdout.splitlines()
    assert list(client.list_blobs("cli-bucket")) == []

    deployed = bigflow_cli("deploy", "composer", "--config", "dev")
    assert deployed.exit_code == 0, deployed.stderr
    names = sorted(b.name for b in client.list_blobs("cli-bucket"))
    assert names[0] == "dags/example/.bigflow/current.json" and names[-1] == "dags/example/bigflow_dags.py"
    assert [n.rsplit("/", 1)[1] for n in names[1:-1]] == ["etl.py.src", "hello_world.py.src"]
    again = bigflow_cli("plan", "composer", "local-airflow", "--config", "dev", "--json")
    assert again.exit_code == 0, again.stderr
    composer, local = again.json()
    assert (composer["add"], composer["change"], composer["remove"]) == ([], [], [])
    assert len(composer["unchanged"]) == 2
    assert local["notes"][0].startswith("skipped: environment 'dev' sets no airflow_home")


@pytest.mark.parametrize(("args", "message"), [
    (["build", "dags", "-w", "etll", "--config", "dev"], "Error: unknown workflow 'etll'; did you mean 'etl'?"),
    (["airflow", "test", "etll"], "Error: unknown workflow 'etll'; did you mean 'etl'?"),  # before Airflow is looked for
    (["airflow", "rehearse", "etll", "--config", "dev"], "Error: unknown workflow 'etll'; did you mean 'etl'?"),
    (["airflow", "tst", "etl"], "Error: No such command 'tst'. Did you mean 'test'?"),
    (["plan", "composr", "--config", "dev"], "Error: unknown deploy target 'composr' (did you mean 'composer'?)"),
    (["build", "dag", "--config", "dev"], "Error: unknown artifact builder 'dag' (did you mean 'dags'?)"),
])
def test_unknown_names_exit_2_naming_the_nearest(tmp_path, monkeypatch, bigflow_cli, args, message):
    project = make_project(tmp_path / "example", "af_unknown", {"jobs": JOBS, "workflows": EXAMPLE},
                           {"dev": {"docker_repository": "example"}}, name="example")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *command], cwd=project.root, check=True, env={"PATH": "/usr/bin:/bin", **GIT})
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no airflow
    done = bigflow_cli(*args)
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert (done.exit_code, errors) == (exit_codes.USAGE, [message]) and "Traceback" not in done.stderr, done.stderr


def test_a_deploy_counts_its_dag_uploads_on_a_terminal_only(tmp_path, monkeypatch, bigflow_cli, gcs_endpoint, registry):
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_endpoint})
    buckets = {way: client.create_bucket(f"progress-{way}") for way in ("terminal", "quiet", "piped")}
    env = {"docker_repository": f"{registry.host}/progress/example", "dags_bucket": "progress-terminal",
           "storage_endpoint": gcs_endpoint}
    project = make_project(tmp_path / "example", "af_progress", {"jobs": JOBS, "workflows": EXAMPLE},
                           {"dev": env}, name="example")
    (project.root / ".gitignore").write_text("build/\n.bigflow/\n__pycache__/\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *command], cwd=project.root, check=True, env={"PATH": "/usr/bin:/bin", **GIT})
    monkeypatch.chdir(project.root)
    assert bigflow_cli("build", "dags", "--config", "dev").exit_code == 0
    registry.push("progress/example", project_version(project.root).replace("+", "-"))
    deploy = [str(Path(sys.executable).with_name("bigflow")), "deploy", "composer", "--config", "dev"]
    counting = "uploading DAG files: "

    code, shown = on_a_terminal(deploy, env={"bf_dags_bucket": "progress-terminal"}, cwd=project.root)
    assert code == 0 and f"{counting}0 of 2 in the bucket" in shown and "0:00:0" in shown, shown
    code, quiet = on_a_terminal([*deploy, "-q"], env={"bf_dags_bucket": "progress-quiet"}, cwd=project.root)
    assert code == 0 and counting not in quiet, quiet
    piped = subprocess.run(deploy, cwd=project.root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env={**os.environ, "bf_dags_bucket": "progress-piped"})
    assert piped.returncode == 0, piped.stderr
    assert counting not in piped.stderr and "\x1b[" not in piped.stdout + piped.stderr, piped.stderr
    for bucket in buckets.values():  # each deploy did upload
        assert sum(blob.name.endswith(".py.src") for blob in client.list_blobs(bucket)) == 2, bucket.name
