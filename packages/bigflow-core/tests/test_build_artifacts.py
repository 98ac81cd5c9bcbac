"""``bigflow build`` (requirements lock, package), the build manifest, and ``bigflow plan`` / ``deploy`` with
plugin builders and targets. The image builder has its own tests (test_image.py)."""

from __future__ import annotations

import json
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from bigflow.artifacts import Artifact, Manifest, Plan
from bigflow.builders.package import stamp_version
from bigflow.builders.requirements import check_stale
from bigflow.contracts import Option
from bigflow.plugins import hookimpl
from bigflow.project import find_project
from bigflow.testing import new_project


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project(bigflow_cli, tmp_path, monkeypatch) -> Path:
    """A fresh project (start-project), committed and tagged 1.2.0, as the current directory."""
    monkeypatch.chdir(tmp_path)
    root = new_project(bigflow_cli, tmp_path, "shop", "v1.2.0").root
    monkeypatch.chdir(root)
    return root


def manifest_kinds(root: Path) -> dict[str, list[str]]:
    manifest = Manifest.read(root)
    assert manifest is not None
    found: dict[str, list[str]] = {}
    for artifact in manifest.artifacts:
        found.setdefault(artifact.kind, []).append(artifact.name)
    return found


# -- package -------------------------------------------------------------------------------------------


def test_build_package_runs_the_tests_then_builds_wheel_and_sdist_with_the_version(bigflow_cli, project):
    result = bigflow_cli("build", "package")
    assert result.exit_code == 0, result.stderr
    assert "1 passed" in result.stderr
    junit = project / "build/test-results/junit.xml"
    assert 'tests="1"' in junit.read_text()
    wheel, sdist = project / "dist/shop-1.2.0-py3-none-any.whl", project / "dist/shop-1.2.0.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("shop-1.2.0.dist-info/METADATA").decode()
    assert "shop/hello_workflow.py" in names and "shop/hello.txt" in names
    assert "Version: 1.2.0" in metadata
    assert sdist.is_file()
    manifest = Manifest.read(project)
    assert manifest.version == "1.2.0"
    records = {a.kind: a for a in manifest.artifacts}
    assert records["wheel"].path == "dist/shop-1.2.0-py3-none-any.whl"
    assert records["wheel"].details["tests"] == "1 passed"
    assert records["sdist"].digest.startswith("sha256:")
    assert 'version = "0+dev"' in (project / "pyproject.toml").read_text()  # the working tree is not modified


def test_the_sdist_holds_no_secret_value_of_pyproject_toml(bigflow_cli, project):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.bigflow.environments.local]\n", '[tool.bigflow.environments.local]\napi_token = "tok-5f1e9a"\n'
        'db_password = "from-bf"\n# bf_db_password is pw-77c2d0\n'))
    result = bigflow_cli("build", "package", "--skip-tests", env={"bf_db_password": "pw-77c2d0"})
    assert result.exit_code == 0, result.stderr
    (sdist,) = (project / "dist").glob("shop-*.tar.gz")
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/pyproject.toml"))
        packed = archive.extractfile(member).read().decode()
    assert "tok-5f1e9a" not in packed and "# local.api_token: secret, left out of the build" in packed
    assert "pw-77c2d0" not in packed and "# bf_db_password is ***" in packed  # the build environment's value
    assert tomllib.loads(packed)["tool"]["bigflow"]["environments"]["local"]["greeting"] == "Hello"


def test_a_dirty_tree_builds_a_dev_version(bigflow_cli, project):
    (project / "shop/hello_workflow.py").write_text((project / "shop/hello_workflow.py").read_text() + "# edit\n")
    git(project, "commit", "-qam", "edit")
    assert bigflow_cli("build", "package", "--skip-tests").exit_code == 0
    commit = git(project, "rev-parse", "HEAD")[:8]
    assert (project / f"dist/shop-1.2.0.dev1+g{commit}-py3-none-any.whl").is_file()
    assert not (project / "build/test-results/junit.xml").exists()


def test_failing_tests_stop_the_build_and_keep_the_previous_artifacts(bigflow_cli, project):
    assert bigflow_cli("build", "package").exit_code == 0
    wheel = project / "dist/shop-1.2.0-py3-none-any.whl"
    before = (wheel.read_bytes(), (project / "build/manifest.json").read_text())
    (project / "tests/test_broken.py").write_text("def test_broken():\n    assert 1 == 2\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "broken")
    result = bigflow_cli("build", "package")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: tests failed (1 failed, 0 errors of 2 tests); the build stopped, dist/ is unchanged; "
        "report: build/test-results/junit.xml")
    assert sorted(p.name for p in (project / "dist").iterdir()) == ["shop-1.2.0-py3-none-any.whl", "shop-1.2.0.tar.gz"]
    assert (wheel.read_bytes(), (project / "build/manifest.json").read_text()) == before


def test_a_project_outside_git_is_a_one_line_error(bigflow_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bigflow_cli("start-project", "loose", "--no-input").exit_code == 0
    monkeypatch.chdir(tmp_path / "loose")
    result = bigflow_cli("build", "package", env={"BIGFLOW_LOAD_PLUGINS": "bigflow-airflow"})  # it requires it
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        1, f"Error: {tmp_path / 'loose'} is not in a git repository; run 'git init' and commit first")


@pytest.mark.parametrize(("text", "expected"), [
    ('[project]\nname = "a"\nversion = "0+dev"\n', '[project]\nname = "a"\nversion = "2.0"\n'),
    ('[project]\nname = "a"\ndynamic = ["version", "readme"]\n\n[tool.x]\nversion = "keep"\n',
     '[project]\nversion = "2.0"\nname = "a"\ndynamic = ["readme"]\n\n[tool.x]\nversion = "keep"\n'),
])
def test_stamp_version_sets_a_static_version(text, expected):
    stamped = stamp_version(text, "2.0")
    assert stamped == expected
    assert tomllib.loads(stamped)["project"]["version"] == "2.0"


def test_stamp_version_needs_a_project_table():
    with pytest.raises(Exception, match=r"no \[project\] table.*bigflow migrate"):
        stamp_version('[tool.bigflow]\npackage = "a"\n', "1.0")


# -- requirements ------------------------------------------------------------------------------------------


def test_lock_from_pyproject_is_pinned_hashed_and_excludes_local_sources(bigflow_cli, project):
    result = bigflow_cli("build", "requirements")
    assert result.exit_code == 0, result.stderr
    text = (project / "requirements.txt").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# Locked by 'bigflow build requirements' from pyproject.toml [project] dependencies")
    assert lines[1].startswith("# bigflow-source-hash: sha256:")
    assert "# bigflow-local: bigflow-core" in lines  # installed from this checkout, not from an index
    assert "click==" in text and "--hash=sha256:" in text
    assert "\nbigflow-core==" not in text
    assert check_stale(find_project()) is None
    assert manifest_kinds(project) == {"requirements": ["requirements.txt"]}


def test_a_changed_source_makes_the_lock_stale_and_build_warns(bigflow_cli, project):
    (project / "requirements.in").write_text("click>=8\n")
    assert check_stale(find_project()) == "requirements.in is not locked yet: run 'bigflow build requirements'"
    assert bigflow_cli("build", "requirements").exit_code == 0
    assert "click==" in (project / "requirements.txt").read_text()
    assert check_stale(find_project()) is None
    (project / "requirements.in").write_text("click>=8\npluggy\n")
    message = ("requirements.txt is stale (requirements.in changed since it was locked): "
               "run 'bigflow build requirements'")
    assert check_stale(find_project()) == message
    result = bigflow_cli("build", "package", "--skip-tests")
    assert result.exit_code == 0
    assert f"bigflow: warning: {message}" in result.stderr.splitlines()


def test_includes_count_for_staleness(bigflow_cli, project):
    (project / "base.in").write_text("click>=8\n")
    (project / "requirements.in").write_text("-r base.in\n")
    assert bigflow_cli("build", "requirements").exit_code == 0
    (project / "base.in").write_text("click>=8.1\n")
    assert "requirements.txt is stale" in check_stale(find_project())


def test_a_failed_lock_is_one_line_and_keeps_the_previous_lock(bigflow_cli, project):
    (project / "requirements.in").write_text("click>=8\n")
    assert bigflow_cli("build", "requirements").exit_code == 0
    before = (project / "requirements.txt").read_text()
    (project / "requirements.in").write_text("click>=8\nno-such-distribution-bigflow-test==1.0\n")
    result = bigflow_cli("build", "requirements")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()[-1:]
    assert line.startswith("Error: locking requirements.in failed: ")
    assert "no-such-distribution-bigflow-test" in line
    assert (project / "requirements.txt").read_text() == before


def test_a_requirements_txt_of_the_users_own_is_not_overwritten(bigflow_cli, project):
    (project / "requirements.txt").write_text("click==8.1.0\n")
    result = bigflow_cli("build", "requirements")
    assert result.stderr.splitlines()[-1] == (
        "Error: requirements.txt was not written by bigflow; rename it to requirements.in to lock it, or delete it")
    assert (project / "requirements.txt").read_text() == "click==8.1.0\n"


# -- the build command with plugin builders, plan and deploy ------------------------------------------------


class Tracker:
    """A builder and a deploy target that record what they were asked, as a plugin would provide them."""

    calls: list[tuple[str, object]] = []

    class Notes:
        options = (Option("flavour", help="how the notes read.", default="plain"),
                   Option("tag", multiple=True, help="a tag (repeatable)."))

        def build(self, project, env, options):
            Tracker.calls.append(("notes", env.name, dict(options)))
            path = project.root / "build" / "notes.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"notes of {options['version']}\n")
            return ["build/notes.txt"]

    class Failing:
        def build(self, project, env, options):
            raise RuntimeError("boom")

    class Target:
        options = (Option("latest", flag=True, help="also the latest."),)

        def plan(self, project, manifest, env, options):
            return Plan("notes", add=[a.path for a in manifest.of_kind("notes")], notes=[f"env {env.name}"])

        def deploy(self, project, manifest, env, options):
            Tracker.calls.append(("deploy", (env.name, options["latest"], manifest.version)))
            return Plan("notes", add=["uploaded"])

    @hookimpl
    def register_artifact_builders(self, register):
        register("notes", Tracker.Notes())
        register("failing", Tracker.Failing())

    @hookimpl
    def register_deploy_targets(self, register):
        register("notes", Tracker.Target())


def test_plugin_builders_run_by_name_with_options_and_land_in_the_manifest(bigflow_cli, bigflow_register, project):
    Tracker.calls = []
    bigflow_register(Tracker(), name="bigflow-notes")
    result = bigflow_cli("build", "notes", "--flavour", "terse", "--tag", "a", "--tag", "b", "--json")
    assert result.exit_code == 0, result.stderr
    assert Tracker.calls == [("notes", "local", {"flavour": "terse", "tag": ["a", "b"], "version": "1.2.0",
                                               "quiet": False})]
    manifest = result.json()
    assert manifest["version"] == "1.2.0"
    assert [(a["kind"], a["path"]) for a in manifest["artifacts"]] == [("notes", "build/notes.txt")]


def test_a_failing_builder_keeps_what_was_built_before_it(bigflow_cli, bigflow_register, project):
    bigflow_register(Tracker(), name="bigflow-notes")
    assert bigflow_cli("build", "package", "--skip-tests").exit_code == 0
    result = bigflow_cli("build", "notes", "failing")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "Error: RuntimeError: boom (run with --debug for the traceback)"
    assert manifest_kinds(project) == {"wheel": ["shop-1.2.0-py3-none-any.whl"],
                                       "sdist": ["shop-1.2.0.tar.gz"], "notes": ["notes.txt"]}


def test_unknown_builder_names_the_nearest(bigflow_cli, project):
    result = bigflow_cli("build", "pakage")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Error: unknown artifact builder 'pakage' (did you mean 'package'?)")


def test_bigflow_build_runs_core_builders_first_in_order(bigflow_cli, bigflow_register, project):
    Tracker.calls = []
    bigflow_register(Tracker(), name="bigflow-notes")
    result = bigflow_cli("build", "requirements", "package", "notes", "--skip-tests")
    assert result.exit_code == 0, result.stderr
    headers = [line for line in result.stderr.splitlines() if line.startswith("==> build")]
    assert headers == ["==> build requirements (version 1.2.0)", "==> build package (version 1.2.0)",
                       "==> build notes (version 1.2.0)"]
    from bigflow.builders import CORE_ORDER, ordered

    assert ordered({"dags", "image", "notes", "package", "requirements"}, CORE_ORDER) == [
        "requirements", "package", "image", "dags", "notes"]


def test_plan_and_deploy_use_the_manifest_and_the_environment(bigflow_cli, bigflow_register, project):
    Tracker.calls = []
    bigflow_register(Tracker(), name="bigflow-notes")
    assert bigflow_cli("build", "notes").exit_code == 0
    planned = bigflow_cli("plan", "notes", "--config", "dev")
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout.splitlines() == ["notes:", "  + build/notes.txt", "  note: env dev"]
    deployed = bigflow_cli("deploy", "notes", "--config", "prod", "--latest", "--json", "--yes")
    assert deployed.exit_code == 0, deployed.stderr
    assert Tracker.calls[-1] == ("deploy", ("prod", True, "1.2.0"))
    assert deployed.json()[0]["add"] == ["uploaded"]


def test_deploy_without_a_build_says_what_to_run_with_the_options_given(bigflow_cli, project):
    result = bigflow_cli("deploy", "image", "--config", "prod")
    assert result.stderr.splitlines()[-1] == "Error: build/manifest.json not found; run 'bigflow build --config prod' first"


def test_declared_options_are_shown_per_builder_and_target(bigflow_cli, bigflow_register, project):
    bigflow_register(Tracker(), name="bigflow-notes")
    notes = bigflow_cli("build", "notes", "--help").stdout
    assert "--flavour TEXT" in notes and "notes: how the notes read." in notes
    assert "--skip-tests" not in notes and "--base-image" not in notes
    everything = bigflow_cli("build", "--help").stdout
    assert "package: do not run the project's tests." in everything and "--flavour" in everything
    assert "image: also tag and push 'latest'." in bigflow_cli("deploy", "image", "--help").stdout
    assert "[default: (" not in notes + everything  # the key once reached click as its show_default
    refused = bigflow_cli("build", "package", "--flavour", "x")
    assert (refused.exit_code, refused.stderr.splitlines()[-1]) == (2, "Error: No such option '--flavour'.")


@pytest.mark.parametrize(("returned", "shown"), [
    ("[]", "list []"),
    ("None", "NoneType None"),
    ("{'add': ['x']}", "dict {'add': ['x']}"),
])
def test_a_target_breaking_its_protocol_is_a_one_line_error(bigflow_cli, bigflow_register, project, returned, shown):
    class Broken:
        options = ()

        def plan(self, project, manifest, env, options):
            return eval(returned)

    class Plugin:
        @hookimpl
        def register_deploy_targets(self, register):
            register("broken", Broken())

    bigflow_register(Plugin(), name="bigflow-broken")
    assert bigflow_cli("build", "package", "--skip-tests").exit_code == 0
    result = bigflow_cli("plan", "broken", "--json")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        3, f"Error: target 'broken' (plugin 'bigflow-broken') plan() returned {shown}, not a bigflow.api.Plan")


def test_a_builder_returning_no_list_is_a_one_line_error(bigflow_cli, bigflow_register, project):
    class Plugin:
        class Builder:
            def build(self, project, env, options):
                return "build/notes.txt"

        @hookimpl
        def register_artifact_builders(self, register):
            register("odd", Plugin.Builder())

    bigflow_register(Plugin(), name="bigflow-odd")
    result = bigflow_cli("build", "odd")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        3, "Error: builder 'odd' (plugin 'bigflow-odd') build() returned str 'build/notes.txt', not a list of "
           "bigflow.api.Artifact or paths")


@pytest.mark.parametrize("text", ['{"version": "1.2.0"', '{"version": "1.2.0", "artifacts": []}'])
def test_a_corrupt_manifest_is_one_line_and_bigflow_build_rebuilds_it(bigflow_cli, bigflow_register, project, text):
    bigflow_register(Tracker(), name="bigflow-notes")
    (project / "build").mkdir(exist_ok=True)
    (project / "build/manifest.json").write_text(text)
    planned = bigflow_cli("plan", "notes", "--config", "prod")
    assert planned.exit_code == 1
    assert planned.stderr.splitlines()[-1].endswith("; run 'bigflow build --config prod' to rebuild it")
    assert len(planned.stderr.splitlines()) == 1
    rebuilt = bigflow_cli("build", "notes", "--config", "prod")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "starting a new one" in rebuilt.stderr
    assert bigflow_cli("plan", "notes", "--config", "prod").exit_code == 0


def test_protected_environment_needs_confirmation(bigflow_cli, bigflow_register, project):
    Tracker.calls = []
    bigflow_register(Tracker(), name="bigflow-notes")
    assert 'protected = ["prod"]' in (project / "pyproject.toml").read_text()  # the scaffold protects prod
    assert bigflow_cli("build", "notes").exit_code == 0
    refused = bigflow_cli("deploy", "notes", "--config", "prod")
    assert (refused.exit_code, refused.stderr.splitlines()[-1]) == (
        4, "Error: deploy to the protected environment 'prod' refused: confirm on a terminal, or pass --yes")
    assert not [c for c in Tracker.calls if c[0] == "deploy"]
    assert bigflow_cli("deploy", "notes", "--config", "prod", "--yes").exit_code == 0
    assert Tracker.calls[-1][0] == "deploy"
    assert bigflow_cli("deploy", "notes", "--config", "dev").exit_code == 0  # not protected: no question


def test_manifest_records_each_artifact_with_its_digest(project):
    path = project / "build" / "x.bin"
    path.parent.mkdir()
    path.write_bytes(b"abc")
    manifest = Manifest("shop", "1.2.0", [Artifact.for_file("x", project, path)])
    manifest.write(project)
    data = json.loads((project / "build/manifest.json").read_text())
    assert data["artifacts"][0]["digest"] == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_without_a_docker_engine_build_builds_the_rest_and_ends_with_one_line(bigflow_cli, project, tmp_path):
    socket = f"unix://{tmp_path}/no-engine.sock"
    result = bigflow_cli("build", "package", "image", "--skip-tests", env={"DOCKER_HOST": socket})
    assert result.exit_code == 0, result.stderr
    assert manifest_kinds(project).keys() == {"wheel", "sdist"}
    assert result.stderr.splitlines()[-1] == (
        f"bigflow: warning: image not built: no Docker engine answers at {socket}: start one (Docker Desktop, or "
        "'sudo systemctl start docker'), or set DOCKER_HOST to a running engine's socket; then run "
        "'bigflow build image --config local'")
    alone = bigflow_cli("build", "image", env={"DOCKER_HOST": socket})
    assert alone.exit_code == 1 and alone.stderr.splitlines()[-1].startswith("Error: no Docker engine answers at")


def test_an_environment_with_dags_bucket_needs_a_dag_builder(bigflow_cli, project):
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace("[tool.bigflow.environments.prod]",
                                                         "[tool.bigflow.environments.prod]\ndags_bucket = 'b'"))
    for command in ("build", "plan"):
        result = bigflow_cli(command, "--config", "prod")
        assert (result.exit_code, result.stderr.splitlines()[-1]) == (
            1, "Error: environment 'prod' has dags_bucket but no DAG builder is installed, so no DAG would be built "
               "or deployed: pip install bigflow-airflow")
