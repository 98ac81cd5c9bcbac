"""Project versions from git tags (BigFlow 1.x's PEP 440 scheme) and release tagging.

- on a release tag with a clean tree: the tag without its prefix (``v1.2.0`` -> ``1.2.0``);
- N commits after it: ``1.2.0.devN+gHASH8``;
- tracked changes not committed: ``+gHASH8.tTREE8`` (the tree hash of the working copy, so two different
  dirty trees never share a version);
- no release tag yet: ``0+gHASH12`` (``0+gHASH12.tTREE8`` when dirty).

Differences from BigFlow 1.x: lightweight tags count too; releases are annotated tags and may bump the major,
minor or patch part (1.x bumped the minor part only and dropped the patch: ``1.2.3`` -> ``1.3``); outside git
(or before the first commit) builds and releases fail; only ``bigflow version`` prints 1.x's ``0+BROKEN``, with
a warning.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from bigflow.errors import BigflowError

TAG = re.compile(r"^(?P<prefix>[^\d]*)(?P<version>\d+(\.\d+)*)$")


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``root`` and return its stripped stdout; a one-line BigflowError on failure."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              env={**os.environ, **(env or {})})
    except FileNotFoundError:
        raise BigflowError("git is not installed; install it (e.g. apt-get install git)") from None
    if done.returncode != 0:
        message = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise BigflowError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
    return done.stdout.strip()


BROKEN_VERSION = "0+BROKEN"  # what 1.x's ``bigflow project-version`` printed without git history


class NoGitHistoryError(BigflowError):
    """The project is not in a git repository, or the repository has no commit yet."""


def _require_repo(root: Path) -> None:
    try:
        git(root, "rev-parse", "--verify", "-q", "HEAD")
    except BigflowError:
        if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=root, capture_output=True).returncode != 0:
            raise NoGitHistoryError(f"{root} is not in a git repository; run 'git init' and commit first") from None
        raise NoGitHistoryError(f"the git repository in {root} has no commits yet") from None


def is_dirty(root: Path) -> bool:
    """True when tracked files differ from HEAD (untracked files do not count, as in 1.x)."""
    return bool(git(root, "status", "--porcelain", "--untracked-files=no"))


def _tree_hash(root: Path) -> str:
    """Hash of the working tree's tracked content, computed in a throw-away index."""
    index = Path(git(root, "rev-parse", "--git-path", "index"))
    index = index if index.is_absolute() else root / index
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "index"
        if index.exists():
            scratch.write_bytes(index.read_bytes())
        env = {"GIT_INDEX_FILE": str(scratch)}
        git(root, "add", "-u", env=env)
        return git(root, "write-tree", env=env)[:8]


def release_tags(root: Path) -> list[tuple[tuple[int, ...], str]]:
    """Release tags reachable from HEAD as ``(numeric version, tag)``, oldest first."""
    tags = git(root, "tag", "--merged", "HEAD").splitlines()
    found = []
    for tag in tags:
        match = TAG.match(tag.strip())
        if match:
            found.append((tuple(int(p) for p in match["version"].split(".")), tag.strip()))
    return sorted(found)


def project_version(root: Path) -> str:
    """The PEP 440 version of the project at ``root`` (see the module docstring)."""
    _require_repo(root)
    tags = release_tags(root)
    dirty = is_dirty(root)
    tree = f".t{_tree_hash(root)}" if dirty else ""
    if not tags:
        return f"0+g{git(root, 'rev-parse', 'HEAD')[:12]}{tree}"
    _, tag = tags[-1]
    version = TAG.match(tag)["version"]  # type: ignore[index]
    distance = int(git(root, "rev-list", "--count", f"{tag}..HEAD"))
    if distance == 0 and not dirty:
        return version
    return f"{version}.dev{distance}+g{git(root, 'rev-parse', 'HEAD')[:8]}{tree}"


def bump(version: tuple[int, ...], part: str) -> tuple[int, int, int]:
    major, minor, patch = (*version, 0, 0, 0)[:3]
    if part == "major":
        return major + 1, 0, 0
    if part == "minor":
        return major, minor + 1, 0
    return major, minor, patch + 1


def will_push(root: Path, push: bool | None, remote: str) -> bool:
    """Whether a release pushes its tag: ``push=None`` pushes when the remote exists (a repository without
    one is tagged locally); ``push=True`` requires the remote."""
    if push is False:
        return False
    exists = remote in git(root, "remote").splitlines()
    if push and not exists:
        raise BigflowError(f"git remote {remote!r} does not exist; use --remote NAME or --no-push")
    return exists


def release(root: Path, part: str = "minor", *, push: bool | None = None, remote: str = "origin") -> str:
    """Tag HEAD with the next release version (annotated) and push the tag (see ``will_push``); returns the
    tag."""
    _require_repo(root)
    if is_dirty(root):
        raise BigflowError("the working tree has uncommitted changes; commit or stash them before a release")
    push = will_push(root, push, remote)
    tags = release_tags(root)
    prefix = TAG.match(tags[-1][1])["prefix"] if tags else ""  # type: ignore[index]
    version = bump(tags[-1][0], part) if tags else (0, 1, 0)
    tag = prefix + ".".join(map(str, version))
    if tag in git(root, "tag", "--list", tag).splitlines():
        raise BigflowError(f"tag {tag!r} already exists")
    git(root, "tag", "-a", tag, "-m", f"Release {tag}")
    if push:
        try:
            git(root, "push", remote, f"refs/tags/{tag}")
        except BigflowError as error:
            git(root, "tag", "-d", tag)
            raise BigflowError(f"{error} (the local tag {tag!r} was removed)") from None
    return tag
