"""Through the CLI: ``bigflow build dags``, ``bigflow plan composer``, ``bigflow deploy composer`` in a git
project, against fake-gcs-server and the local registry."""

from __future__ import annotations

import subprocess

import pytest
from airflow_projects import JOBS, make_project
from airflow_scenarios import EXAMPLE
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bigflow import exit_codes
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
