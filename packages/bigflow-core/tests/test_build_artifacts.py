"""``bigflow build`` (requirements lock, package), the build manifest, and ``bigflow plan`` / ``deploy`` with
plugin builders and targets. The image builder has its own tests (test_image.py)."""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

from bigflow.artifacts import Artifact, Manifest, Plan
from bigflow.builders.package import stamp_version
from bigflow.builders.requirements import check_stale
from bigflow.plugins import hookimpl
from bigflow.project import find_project


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project(bigflow_cli, tmp_path, monkeypatch) -> Path:
    """A fresh project (start-project), committed and tagged 1.2.0, as the current directory."""
    monkeypatch.chdir(tmp_path)
    assert bigflow_cli("start-project", "shop", "--no-input").exit_code == 0
    root = tmp_path / "shop"
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "tag", "v1.2.0")
    monkeypatch.chdir(root)
    find_project.cache_clear()
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
    result = bigflow_cli("build", "package")
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
        def build(self, project, options):
            Tracker.calls.append(("notes", options.get("flavour")))
            path = project.root / "build" / "notes.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"notes of {options['version']}\n")
            return ["build/notes.txt"]

    class Failing:
        def build(self, project, options):
            raise RuntimeError("boom")

    class Target:
        def plan(self, project, manifest, env):
            return Plan("notes", add=[a.path for a in manifest.of_kind("notes")], notes=[f"env {env}"])

        def deploy(self, project, manifest, env, options):
            Tracker.calls.append(("deploy", (env, options["latest"], manifest.version)))
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
    result = bigflow_cli("build", "notes", "-o", "flavour=plain", "--json")
    assert result.exit_code == 0, result.stderr
    assert Tracker.calls == [("notes", "plain")]
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
    deployed = bigflow_cli("deploy", "notes", "--config", "prod", "--latest", "--json")
    assert deployed.exit_code == 0, deployed.stderr
    assert Tracker.calls[-1] == ("deploy", ("prod", True, "1.2.0"))
    assert deployed.json()[0]["add"] == ["uploaded"]


def test_deploy_without_a_build_says_what_to_run(bigflow_cli, project):
    result = bigflow_cli("deploy", "image")
    assert result.stderr.splitlines()[-1] == (
        f"Error: {project / 'build/manifest.json'} not found; run 'bigflow build' first")


def test_manifest_records_each_artifact_with_its_digest(project):
    path = project / "build" / "x.bin"
    path.parent.mkdir()
    path.write_bytes(b"abc")
    manifest = Manifest("shop", "1.2.0", [Artifact.for_file("x", project, path)])
    manifest.write(project)
    data = json.loads((project / "build/manifest.json").read_text())
    assert data["artifacts"][0]["digest"] == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
