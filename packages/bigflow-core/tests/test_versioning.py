"""Versions from real git repositories, and release tagging (bigflow version / bigflow release)."""

import json
import re
import subprocess

import pytest

from bigflow.errors import BigflowError
from bigflow.versioning import project_version, release


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}.items():
        monkeypatch.setenv(key, value)
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("1")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def commit(repo, text):
    (repo / "a.txt").write_text(text)
    git(repo, "commit", "-qam", text)


def test_no_tags(repo):
    assert project_version(repo) == f"0+g{git(repo, 'rev-parse', 'HEAD')[:12]}"


def test_exact_tag_and_commits_after_it(repo):
    git(repo, "tag", "v1.2.0")
    assert project_version(repo) == "1.2.0"
    commit(repo, "2")
    commit(repo, "3")
    assert project_version(repo) == f"1.2.0.dev2+g{git(repo, 'rev-parse', 'HEAD')[:8]}"


def test_dirty_tree_adds_a_tree_hash_that_follows_the_content(repo):
    git(repo, "tag", "1.0")
    (repo / "a.txt").write_text("changed")
    first = project_version(repo)
    assert re.fullmatch(r"1\.0\.dev0\+g[0-9a-f]{8}\.t[0-9a-f]{8}", first)
    assert project_version(repo) == first
    (repo / "a.txt").write_text("changed again")
    assert project_version(repo) != first
    (repo / "untracked.txt").write_text("ignored")
    (repo / "a.txt").write_text("1")
    assert project_version(repo) == "1.0"


def test_outside_git_is_a_clear_error(tmp_path):
    with pytest.raises(BigflowError, match="is not in a git repository; run 'git init' and commit first"):
        project_version(tmp_path)


@pytest.mark.parametrize(("part", "expected"), [("minor", "v1.3.0"), ("major", "v2.0.0"), ("patch", "v1.2.4")])
def test_release_bumps_and_keeps_the_patch(repo, part, expected):
    git(repo, "tag", "v1.2.3")
    commit(repo, "2")
    assert release(repo, part, push=False) == expected
    assert git(repo, "cat-file", "-t", expected) == "tag"  # annotated
    assert project_version(repo) == expected[1:]


def test_first_release_and_push(repo, tmp_path_factory):
    remote = tmp_path_factory.mktemp("remote")
    git(remote, "init", "-q", "--bare")
    git(repo, "remote", "add", "origin", str(remote))
    assert release(repo) == "0.1.0"
    assert git(remote, "tag") == "0.1.0"


def test_release_refuses_a_dirty_tree(repo):
    (repo / "a.txt").write_text("dirty")
    with pytest.raises(BigflowError, match="uncommitted changes; commit or stash them"):
        release(repo, push=False)
    assert git(repo, "tag") == ""


def test_release_refuses_an_existing_tag(repo):
    git(repo, "tag", "1.0.0")
    commit(repo, "2")
    git(repo, "tag", "other", "HEAD")
    git(repo, "checkout", "-q", "HEAD~1")
    git(repo, "tag", "1.1.0", "main")  # the next version exists, but is not merged into HEAD
    with pytest.raises(BigflowError, match="tag '1.1.0' already exists"):
        release(repo, push=False)


def test_release_without_a_remote_tags_locally_unless_a_push_is_asked_for(repo):
    with pytest.raises(BigflowError, match="git remote 'origin' does not exist; use --remote NAME or --no-push"):
        release(repo, push=True)
    assert git(repo, "tag") == ""
    assert release(repo) == "0.1.0"  # no remote: tagged here, nothing to push to
    assert git(repo, "tag") == "0.1.0"


def test_cli_release_says_what_it_did(repo, monkeypatch, bigflow_cli, tmp_path_factory):
    monkeypatch.chdir(repo)
    local = bigflow_cli("release")
    assert (local.exit_code, local.stdout) == (
        0, "Tagged 0.1.0 (not pushed: this repository has no git remote 'origin'; "
           "push it later with 'git push origin 0.1.0')\n")
    remote = tmp_path_factory.mktemp("remote")
    git(remote, "init", "-q", "--bare")
    git(repo, "remote", "add", "origin", str(remote))
    commit(repo, "2")
    pushed = bigflow_cli("release", "--patch", "--json")
    assert (pushed.exit_code, json.loads(pushed.stdout)) == (
        0, {"tag": "0.1.1", "version": "0.1.1", "pushed": True, "remote": "origin"})
    assert git(remote, "tag") == "0.1.1"
    commit(repo, "3")
    kept = bigflow_cli("release", "--no-push", "--json")
    assert json.loads(kept.stdout) == {"tag": "0.2.0", "version": "0.2.0", "pushed": False, "remote": None}


def test_cli_version_aliases(repo, monkeypatch, bigflow_cli):
    git(repo, "tag", "3.0")
    monkeypatch.chdir(repo)
    for name in ("version", "project-version", "pv"):
        result = bigflow_cli(name)
        assert (result.exit_code, result.stdout) == (0, "3.0\n")


def test_cli_release_dirty_is_one_line(repo, monkeypatch, bigflow_cli):
    monkeypatch.chdir(repo)
    (repo / "a.txt").write_text("dirty")
    result = bigflow_cli("release", "--no-push")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the working tree has uncommitted changes; commit or stash them before a release\n"
    )


@pytest.mark.parametrize("command", ["version", "project-version", "pv"])
def test_cli_version_outside_git_prints_1x_broken_version(tmp_path, monkeypatch, bigflow_cli, command):
    monkeypatch.chdir(tmp_path)
    result = bigflow_cli(command)
    assert (result.exit_code, result.stdout) == (0, "0+BROKEN\n")
    assert result.stderr.splitlines()[-1] == (f"bigflow: warning: {tmp_path} is not in a git repository; run 'git init' "
                                              "and commit first; the version is 0+BROKEN")
