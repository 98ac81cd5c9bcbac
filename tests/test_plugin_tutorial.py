"""docs/plugins.md, followed as written: its files make a plugin with all six kinds of contribution, which
installs into a fresh venv, lists, passes 'plugins check' and its own tests, and builds, plans and deploys."""

import json
import re
from pathlib import Path

from support import ROOT, Venv, run

FILE = re.compile(r"^File `([^`]+)`:\n\n```\w*\n(.*?)^```\n", re.M | re.S)


def tutorial_files() -> dict[str, str]:
    return {path: body for path, body in FILE.findall((ROOT / "docs" / "plugins.md").read_text())}


def test_the_tutorial_has_every_file_of_the_plugin():
    assert sorted(tutorial_files()) == [
        "pyproject.toml", "src/bigflow_sqlfile/__init__.py", "src/bigflow_sqlfile/builder.py",
        "src/bigflow_sqlfile/cli.py", "src/bigflow_sqlfile/jobs.py", "src/bigflow_sqlfile/plugin.py",
        "src/bigflow_sqlfile/source.py", "src/bigflow_sqlfile/starter.py", "src/bigflow_sqlfile/target.py",
        "tests/test_sqlfile.py",
    ]


def git(root: Path, *args: str) -> None:
    run("git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args, cwd=root)


def test_the_tutorial_plugin_installs_lists_checks_plans_and_deploys(tmp_path):
    plugin = tmp_path / "bigflow-sqlfile"
    for path, body in tutorial_files().items():
        (plugin / path).parent.mkdir(parents=True, exist_ok=True)
        (plugin / path).write_text(body)
    venv = Venv(tmp_path / "venv")
    venv.install("-e", f"{plugin}[test]")

    listed = {r["name"]: r for r in json.loads(venv.bigflow("plugins", "list", "--json", check=True).stdout)}
    assert listed["bigflow-sqlfile"]["provides"] == {
        "job_type": ["sqlfile"], "command": ["sqlfile"], "config_source": ["sqlfile-json"],
        "artifact_builder": ["sqlbundle"], "deploy_target": ["sqlfile"], "starter": ["sqlfile"],
    }
    checked = venv.bigflow("plugins", "check", env={"BIGFLOW_STRICT_PLUGINS": "1"})
    assert checked.returncode == 0, checked.stderr
    tests = run(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plugin, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout

    # A user's project: the starter adds its files, the builder, target, command and config source work.
    venv.bigflow("start-project", "shop", "--no-input", cwd=tmp_path, check=True)
    project = tmp_path / "shop"
    assert (project / "shop" / "queries" / "daily.sql").is_file()
    target = tmp_path / "deployed"
    secrets = tmp_path / "sqlfile.json"
    secrets.write_text(json.dumps({"prod": {"sqlfile_target": str(target)}}))
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    git(project, "tag", "v2.0.0")
    env = {"SQLFILE_CONFIG": str(secrets)}
    assert "shop/queries/daily.sql" in venv.bigflow("sqlfile", cwd=project, check=True).stdout
    help_ = venv.bigflow("build", "sqlbundle", "--help", cwd=project, check=True).stdout
    assert "--include GLOB" in help_
    built = venv.bigflow("build", "sqlbundle", cwd=project, env=env)
    assert built.returncode == 0, built.stderr
    planned = venv.bigflow("plan", "sqlfile", "--config", "prod", "--json", cwd=project, env=env)
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)[0]["add"] == [str(target / "sql-2.0.0.zip")]
    refused = venv.bigflow("deploy", "sqlfile", "--config", "prod", cwd=project, env=env)  # the scaffold protects prod
    assert refused.returncode == 4 and not target.exists()
    deployed = venv.bigflow("deploy", "sqlfile", "--config", "prod", "--yes", cwd=project, env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert (target / "sql-2.0.0.zip").is_file()
    again = venv.bigflow("plan", "sqlfile", "--config", "prod", "--json", cwd=project, env=env)
    assert json.loads(again.stdout)[0]["unchanged"] == [str(target / "sql-2.0.0.zip")]
    missing = venv.bigflow("plan", "sqlfile", "--config", "prod", cwd=project)  # without the config source
    last = missing.stderr.strip().splitlines()[-1]
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert last.startswith("Error: ") and "'sqlfile_target'" in last and "environment 'prod'" in last
