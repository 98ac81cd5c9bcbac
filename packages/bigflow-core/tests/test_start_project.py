"""``bigflow start-project``: the generated project, plugin starters, bad input, and that the project works
right away — its tests pass and its example workflows run — with only core installed and with every plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bigflow.plugins import hookimpl

DEV_BIN = Path(sys.executable).parent
CORE = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_generated_project_has_settings_environments_and_files(bigflow_cli, in_tmp):
    result = bigflow_cli("start-project", "sales-data", "--gcp-project", "acme-dev", "--region", "europe-west1",
                         "--dags-bucket", "europe-west1-composer", "--no-input")
    assert result.exit_code == 0, result.stderr
    root = in_tmp / "sales-data"
    for path in ("pyproject.toml", "README.md", "Dockerfile", ".gitignore", ".github/workflows/ci.yml",
                 "sales_data/__init__.py", "sales_data/hello_workflow.py", "sales_data/hello.txt",
                 "tests/test_hello_workflow.py"):
        assert (root / path).is_file(), path
    data = tomllib.loads((root / "pyproject.toml").read_text())
    settings = data["tool"]["bigflow"]
    assert settings["package"] == "sales_data"
    assert settings["default-environment"] == "local"
    assert list(settings["environments"]) == ["local", "dev", "prod", "rehearsal"]
    assert settings["protected"] == ["prod"]
    dev = settings["environments"]["dev"]
    assert dev["gcp_project_id"] == "acme-dev"
    assert dev["dags_bucket"] == "europe-west1-composer"
    assert dev["docker_repository"] == "europe-west1-docker.pkg.dev/acme-dev/bigflow/sales-data"
    assert "gcp_project_id" not in settings["environments"]["local"]
    assert settings["environments"]["local"]["docker_repository"] == "sales-data"  # a local image's name
    assert data["project"]["dependencies"][0].startswith("bigflow-core>=")
    ci = (root / ".github/workflows/ci.yml").read_text()
    assert "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}" in ci and "bigflow deploy" in ci
    assert f"Created project 'sales-data' in {root}" in result.stdout


def test_json_says_what_was_created(bigflow_cli, in_tmp):
    result = bigflow_cli("start-project", "jsoned", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"name": "jsoned", "path": str((in_tmp / "jsoned").resolve()),
                             "examples": [{"name": "hello", "plugin": "bigflow-core"}]}


def test_missing_cloud_values_are_left_as_comments(bigflow_cli, in_tmp):
    assert bigflow_cli("start-project", "bare", "--no-input").exit_code == 0
    text = (in_tmp / "bare/pyproject.toml").read_text()
    dev = tomllib.loads(text)["tool"]["bigflow"]["environments"]["dev"]
    assert "gcp_project_id" not in dev
    assert '# gcp_project_id = "..."   (not given: --gcp-project)' in text


class Starter:
    system_packages = {"acme-tools": "the acme CLI the jobs call"}

    def files(self, context):
        package = context["package"]
        return {f"{package}/acme_workflow.py": f"# acme example of {context['project_name']} in {context['region']}\n",
                "tests/test_acme_workflow.py": "def test_acme():\n    assert True\n"}

    def environment_settings(self, context):
        return {"local": {"acme_endpoint": "embedded"}, "prod": {"acme_endpoint": f"{context['gcp_project']}.acme",
                                                                 "acme_zone": "z1"},
                "rehearsal": {"acme_zone": None}}  # None: prod's key is left out


class StarterPlugin:
    @hookimpl
    def register_starters(self, register):
        register("acme", Starter())


def test_plugin_starters_add_files_and_environment_settings(bigflow_cli, bigflow_register, in_tmp):
    bigflow_register(StarterPlugin(), name="bigflow-acme")
    result = bigflow_cli("start-project", "demo", "--gcp-project", "p1", "--region", "r1", "--no-input")
    assert result.exit_code == 0, result.stderr
    assert (in_tmp / "demo/demo/acme_workflow.py").read_text() == "# acme example of demo in r1\n"
    assert (in_tmp / "demo/tests/test_acme_workflow.py").is_file()
    environments = tomllib.loads((in_tmp / "demo/pyproject.toml").read_text())["tool"]["bigflow"]["environments"]
    assert environments["local"]["acme_endpoint"] == "embedded"
    assert environments["prod"]["acme_endpoint"] == "p1.acme"
    assert environments["rehearsal"]["acme_endpoint"] == "p1.acme" and "acme_zone" not in environments["rehearsal"]
    assert "acme (bigflow-acme)" in result.stdout
    dockerfile = (in_tmp / "demo/Dockerfile").read_text()
    assert "# acme-tools (bigflow-acme): the acme CLI the jobs call\nRUN mkdir -p /usr/share/man/man1 && apt-get " \
           "update && apt-get install -y --no-install-recommends acme-tools && rm -rf /var/lib/apt/lists/*\n" \
           "COPY app/" in dockerfile


def test_a_system_package_must_be_a_debian_package_name(bigflow_cli, bigflow_register, in_tmp):
    class Shell(Starter):
        system_packages = {"acme; rm -rf /": "not a package"}

    class ShellPlugin:
        @hookimpl
        def register_starters(self, register):
            register("acme", Shell())

    bigflow_register(ShellPlugin(), name="bigflow-acme")
    result = bigflow_cli("start-project", "demo", "--no-input")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: starter 'acme' returned the system package 'acme; rm -rf /', not a Debian package name")
    assert not (in_tmp / "demo").exists()


def test_without_system_packages_the_dockerfile_is_cores(bigflow_cli, in_tmp):
    from bigflow.builders.image import DEFAULT_DOCKERFILE

    assert bigflow_cli("start-project", "demo", "--no-input").exit_code == 0
    assert (in_tmp / "demo/Dockerfile").read_text() == DEFAULT_DOCKERFILE.read_text()


class BrokenStarterPlugin:
    @hookimpl
    def register_starters(self, register):
        class Broken:
            def files(self, context):
                raise KeyError("nope")

        register("broken", Broken())


def test_a_failing_starter_is_reported_and_left_out(bigflow_cli, bigflow_register, in_tmp):
    bigflow_register(BrokenStarterPlugin(), name="bigflow-broken")
    result = bigflow_cli("start-project", "demo", "--no-input")
    assert result.exit_code == 0, result.stderr
    assert "starter 'broken' of plugin 'bigflow-broken' failed (KeyError: 'nope'); its example is left out" \
        in result.stderr
    assert (in_tmp / "demo/demo/hello_workflow.py").is_file()


class EscapingStarterPlugin:
    @hookimpl
    def register_starters(self, register):
        class Escaping:
            def files(self, context):
                return {"../outside.txt": "x"}

        register("escaping", Escaping())


def test_a_starter_cannot_write_outside_the_project(bigflow_cli, bigflow_register, in_tmp):
    bigflow_register(EscapingStarterPlugin(), name="bigflow-escaping")
    result = bigflow_cli("start-project", "demo", "--no-input")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: starter 'escaping' returned the path '../outside.txt'; paths must be relative, inside the project")
    assert sorted(p.name for p in in_tmp.iterdir()) == []


@pytest.mark.parametrize(("name", "message"), [
    ("My Project", "Error: invalid project name 'My Project': use lowercase letters, digits and single '-' or '_', "
                   "starting with a letter (e.g. 'my-project')"),
    ("2fast", "Error: invalid project name '2fast': use lowercase letters, digits and single '-' or '_', "
              "starting with a letter (e.g. 'fast')"),
    ("class", "Error: invalid project name 'class': 'class' is a Python keyword"),
    ("json", "Error: invalid project name 'json': its package 'json' would shadow an installed module of that "
             "name; choose another name (e.g. 'json-workflows')"),
])
def test_invalid_names_are_one_line_errors_and_create_nothing(bigflow_cli, in_tmp, name, message):
    result = bigflow_cli("start-project", name, "--no-input")
    assert (result.exit_code, result.stderr.splitlines()) == (1, [message])
    assert list(in_tmp.iterdir()) == []


def test_a_non_empty_directory_is_refused_and_left_alone(bigflow_cli, in_tmp):
    (in_tmp / "demo").mkdir()
    (in_tmp / "demo/notes.txt").write_text("mine")
    result = bigflow_cli("start-project", "demo", "--no-input")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {in_tmp / 'demo'} already exists and is not empty; choose another directory"]
    assert [p.name for p in (in_tmp / "demo").iterdir()] == ["notes.txt"]


def test_prompts_only_on_a_terminal(in_tmp):
    # stdin is not a terminal here: no prompt, no waiting, values left for later
    done = subprocess.run([DEV_BIN / "bigflow", "start-project", "quiet-one"], cwd=in_tmp, capture_output=True,
                          text=True, input="should-not-be-read\n", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Google Cloud project" not in done.stdout
    assert "should-not-be-read" not in (in_tmp / "quiet-one/pyproject.toml").read_text()


def test_prompts_on_a_terminal_for_the_missing_values(in_tmp):
    import pty
    import select

    primary, secondary = pty.openpty()
    process = subprocess.Popen([DEV_BIN / "bigflow", "start-project", "tty-one", "--region", "europe-west1"],
                               cwd=in_tmp, stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    os.write(primary, b"acme-dev\nbucket-x\n")  # project id, DAGs bucket (the docker repository is derived)
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            process.kill()
            pytest.fail(f"start-project did not finish; it printed: {output.decode()}")
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(30) == 0, output.decode()
    text = output.decode()
    assert "Google Cloud project id" in text and "Cloud Composer DAGs bucket" in text
    assert "Region" not in text  # given on the command line
    assert "Docker repository" not in text  # derived from the project and the region
    dev = tomllib.loads((in_tmp / "tty-one/pyproject.toml").read_text())["tool"]["bigflow"]["environments"]["dev"]
    assert (dev["gcp_project_id"], dev["dags_bucket"], dev["region"]) == ("acme-dev", "bucket-x", "europe-west1")
    assert dev["docker_repository"] == "europe-west1-docker.pkg.dev/acme-dev/bigflow/tty-one"


@pytest.fixture(scope="module")
def core_only_venv(tmp_path_factory) -> Path:
    """A throw-away venv with only bigflow-core (editable) and pytest: no plugin at all."""
    venv = tmp_path_factory.mktemp("core-only") / "venv"
    uv = DEV_BIN / "uv"
    run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=venv.parent)
    run(uv, "pip", "install", "--quiet", "--python", venv / "bin/python", "-e", CORE, "pytest", cwd=venv.parent)
    return venv


def _fresh_project_works(bin_dir: Path, root: Path, name: str) -> list[str]:
    """start-project, then the project's tests and every example workflow; returns the workflow ids."""
    run(bin_dir / "bigflow", "start-project", name, "--no-input", cwd=root)
    project = root / name
    tests = run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert " passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout
    listed = json.loads(run(bin_dir / "bigflow", "workflows", "list", "--json", cwd=project).stdout)
    ids = sorted(w.get("workflow_id") or w["id"] for w in listed)
    for workflow_id in ids:
        run(bin_dir / "bigflow", "run", "--workflow", workflow_id, cwd=project)
    return ids


def test_fresh_project_works_with_only_core(core_only_venv, tmp_path):
    ids = _fresh_project_works(core_only_venv / "bin", tmp_path, "only-core")
    assert ids == ["hello"]  # no plugin example, so no mixed workflow either
    report = next((tmp_path / "only-core/build/output/hello").glob("*/report.txt")).read_text()
    assert report.startswith("Hello from local for ")


def test_fresh_project_works_with_every_plugin(tmp_path, monkeypatch):
    monkeypatch.delenv("BIGFLOW_LOAD_PLUGINS")  # core's tests load no plugin by default (conftest.py)
    ids = _fresh_project_works(DEV_BIN, tmp_path, "all-plugins")
    examples = sorted(p.name for p in (tmp_path / "all-plugins/all_plugins").glob("*_workflow.py"))
    assert "hello" in ids and "mixed_example" in ids  # mixed: every example's jobs in one workflow
    assert len(ids) == len(examples) >= 5, (ids, examples)  # core's, one per technology plugin, the mixed one
    dependencies = tomllib.loads((tmp_path / "all-plugins/pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("bigflow-bigquery[emulator]>=") for d in dependencies), dependencies  # starter.extras
