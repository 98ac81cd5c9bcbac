"""``bigflow build package``: the project's tests, then its wheel and sdist stamped with the project version.

1. ``python -m pytest`` of the interpreter bigflow runs in (not whatever ``python`` is on PATH, as in 1.x),
   in the project root, with a JUnit XML report in ``build/test-results/junit.xml``; failing tests stop the
   build. No tests collected is a warning.
2. The project's files (git's tracked and untracked-but-not-ignored files) are copied to a staging directory
   whose ``pyproject.toml`` gets ``version = "<project version>"`` (``bigflow version``), so any PEP 517
   backend stamps it, and loses its secret values (``build_secrets``: the sdist holds no secret of
   pyproject.toml); the working tree is never modified.
3. ``uv build --sdist --wheel`` there, while the tests run; the results move into ``dist/`` only when both
   are built and the tests passed, so a failed build leaves the previous artifacts as they were.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bigflow.artifacts import Artifact
from bigflow.builders import run_streamed, run_tool, uv_binary
from bigflow.builders.build_secrets import pyproject_without_secrets, secret_names
from bigflow.contracts import Option
from bigflow.errors import BigflowError
from bigflow.output import say

JUNIT = Path("build") / "test-results" / "junit.xml"
DIST = Path("dist")
_SKIPPED_DIRS = {"build", "dist", ".bigflow", ".git", ".venv", "__pycache__"}


def test_summary(report: Path) -> dict[str, int]:
    """Counts from a JUnit XML report: tests, failures, errors, skipped."""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


def run_tests(root: Path) -> str:
    """Run the project's tests; a one-line error when they fail. Returns a summary like '12 passed'."""
    if find_spec("pytest") is None:
        raise BigflowError(
            f"pytest is not installed in {sys.executable}: pip install pytest (or build with --skip-tests)"
        )
    report = root / JUNIT
    report.parent.mkdir(parents=True, exist_ok=True)
    say(f"Running the tests (pytest, report in {JUNIT})")
    code, output = run_streamed([sys.executable, "-m", "pytest", f"--junitxml={report}"], cwd=root, stream=True)
    if code == 5:
        say("bigflow: warning: no tests found; building the package anyway")
        return "no tests"
    counts = test_summary(report) if report.is_file() else None
    if code != 0:
        if counts and (counts["failures"] or counts["errors"]):
            failed = f"{counts['failures']} failed, {counts['errors']} errors of {counts['tests']} tests"
        else:
            failed = f"pytest exited with {code}"
        raise BigflowError(f"tests failed ({failed}); the build stopped, dist/ is unchanged; report: {JUNIT}")
    assert counts is not None
    passed = counts["tests"] - counts["skipped"]
    return f"{passed} passed" + (f", {counts['skipped']} skipped" if counts["skipped"] else "")


def project_files(root: Path) -> list[Path]:
    """Files that make up the project source: git's tracked and untracked-not-ignored files that exist."""
    from bigflow.versioning import git

    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    files = []
    for name in sorted(set(filter(None, listed))):
        path = Path(name)
        if path.parts and path.parts[0] in _SKIPPED_DIRS or "__pycache__" in path.parts:
            continue
        if (root / path).is_file():
            files.append(path)
    return files


def stamp_version(text: str, version: str) -> str:
    """pyproject.toml text with a static ``[project] version`` (and 'version' dropped from ``dynamic``)."""
    header = re.search(r"(?m)^\[project\]\s*$", text)
    if header is None:
        raise BigflowError(
            "pyproject.toml has no [project] table: add one (name, dependencies), "
            "or run 'bigflow migrate' for a BigFlow 1.x project"
        )
    following = re.search(r"(?m)^\s*\[", text[header.end():])
    end = header.end() + following.start() if following else len(text)
    table = text[header.end():end]
    line = f'version = "{version}"'
    if re.search(r"(?m)^version\s*=", table):
        table = re.sub(r'(?m)^version\s*=\s*(".*?"|\'.*?\')', line, table, count=1)
    else:
        table = "\n" + line + table
        table = re.sub(
            r"(?ms)^dynamic\s*=\s*\[(.*?)\]",
            lambda m: "dynamic = [" + ", ".join(
                item for item in (p.strip() for p in m[1].split(","))
                if item and item.strip("'\"") != "version"
            ) + "]",
            table, count=1,
        )
    stamped = text[:header.end()] + table + text[end:]
    project = tomllib.loads(stamped).get("project", {})
    if project.get("version") != version or "version" in project.get("dynamic", []):
        raise BigflowError("cannot set the version in pyproject.toml: write it as version = \"...\" in [project]")
    return stamped


def build_distributions(root: Path, version: str, work: Path, env: Any) -> tuple[Path, Path]:
    """Build the sdist and wheel of ``version`` from a staged copy of the project (its pyproject.toml without
    the secret values, ``env`` being the build's Environment); both end in ``work/out``."""
    staging, out = work / "source", work / "out"
    for relative in project_files(root):
        destination = staging / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    pyproject = staging / "pyproject.toml"
    if not pyproject.is_file():
        raise BigflowError(f"{root / 'pyproject.toml'} is not in git nor untracked-and-not-ignored")
    stamped = stamp_version(pyproject.read_text(), version)
    pyproject.write_text(pyproject_without_secrets(stamped, secret_names(env), mask=env.mask).text)
    run_tool([uv_binary(), "build", "--quiet", "--sdist", "--wheel", "--out-dir", str(out), str(staging)],
             cwd=root, what="building the wheel and sdist")
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise BigflowError(f"expected one wheel and one sdist, the build made {sorted(p.name for p in out.iterdir())}")
    return wheels[0], sdists[0]


def publish(root: Path, built: tuple[Path, ...]) -> list[Path]:
    """Move built files into ``dist/`` (each replaced atomically)."""
    dist = root / DIST
    dist.mkdir(exist_ok=True)
    results = []
    for path in built:
        tmp = dist / f".{path.name}.tmp"
        shutil.move(path, tmp)
        tmp.replace(dist / path.name)
        results.append(dist / path.name)
    return results


class PackageBuilder:
    """Artifact builder ``package``: tests, then the wheel and sdist.

    The tests and the build run at the same time; the built files reach ``dist/`` only when the tests pass.
    """

    options = (Option("skip-tests", flag=True, help="do not run the project's tests."),)

    def build(self, project: Any, env: Any, options: Mapping[str, Any]) -> list[Artifact]:
        root = project.root
        version = options["version"]
        with ThreadPoolExecutor(1) as pool, tempfile.TemporaryDirectory(prefix="bigflow-package-") as tmp:
            tests = None if options["skip_tests"] else pool.submit(run_tests, root)
            try:
                built = build_distributions(root, version, Path(tmp), env)
            finally:
                summary = tests.result() if tests else "not run (--skip-tests)"  # failing tests raise here
            wheel, sdist = publish(root, built)
        say(f"Built {DIST / wheel.name} and {DIST / sdist.name} (tests: {summary})")
        return [
            Artifact.for_file("wheel", root, wheel, version=version, tests=summary),
            Artifact.for_file("sdist", root, sdist, version=version),
        ]
