"""``bigflow build requirements``: lock the project's requirements to a pinned, hashed requirements file.

The input is ``[tool.bigflow] requirements`` when set, else ``requirements.in`` or ``resources/requirements.in``
(the BigFlow 1.x place), else the ``[project] dependencies`` of pyproject.toml. The lock is written next to
the ``.in`` file as ``.txt`` (``requirements.txt`` at the root for pyproject dependencies) by
``uv pip compile --generate-hashes --universal``, with a header that records the hash of the input (and of
files it includes with ``-r``/``-c``), so ``run`` and ``build`` can tell when the lock is stale.

Distributions installed from a local directory (an editable checkout of a plugin, say) cannot come from an
index: they are resolved from their directory, left out of the lock and listed in its header
(``# bigflow-local: NAME``); the image builder installs them from the same directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from bigflow.artifacts import Artifact
from bigflow.builders import run_tool, uv_binary
from bigflow.errors import BigflowError
from bigflow.output import say

INPUTS = ("requirements.in", "resources/requirements.in")
HASH_PREFIX = "# bigflow-source-hash: "
LOCAL_PREFIX = "# bigflow-local: "
COMMAND = "bigflow build requirements"


@dataclass(frozen=True)
class LockSpec:
    """Where a project's requirements come from and where their lock goes."""

    root: Path
    source: Path | None  # a requirements.in; None: the [project] dependencies of pyproject.toml
    lock: Path

    @property
    def source_label(self) -> str:
        return str(self.source.relative_to(self.root)) if self.source else "pyproject.toml [project] dependencies"

    @property
    def lock_label(self) -> str:
        return str(self.lock.relative_to(self.root))


@dataclass
class Lock:
    """What a lock file's bigflow header says."""

    source_hash: str | None = None
    local: list[str] = field(default_factory=list)


def lock_spec(project: Any) -> LockSpec:
    root = project.root
    configured = project.settings.get("requirements")
    if configured is not None:
        source = root / str(configured)
        if not source.is_file():
            raise BigflowError(f"[tool.bigflow] requirements = {configured!r}: {source} does not exist")
        return LockSpec(root, source, source.with_suffix(".txt"))
    for candidate in INPUTS:
        if (root / candidate).is_file():
            return LockSpec(root, root / candidate, (root / candidate).with_suffix(".txt"))
    return LockSpec(root, None, root / "requirements.txt")


def _included(path: Path, seen: set[Path]) -> list[Path]:
    """``path`` and every file it includes with ``-r`` / ``-c`` (recursively), in order."""
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    found = [path]
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(-r|-c|--requirement|--constraint)[\s=]+(\S+)", line)
        if match:
            include = (path.parent / match[2]).resolve()
            if not include.is_file():
                raise BigflowError(f"{path.name}: included file {match[2]!r} does not exist")
            found += _included(include, seen)
    return found


def pyproject_dependencies(root: Path) -> list[str]:
    with (root / "pyproject.toml").open("rb") as file:
        data = tomllib.load(file)
    dependencies = data.get("project", {}).get("dependencies", [])
    if not isinstance(dependencies, list):
        raise BigflowError("pyproject.toml [project] dependencies must be a list")
    return dependencies


def source_hash(spec: LockSpec) -> str:
    """``sha256:...`` of what the lock is computed from (and of this Python's major.minor)."""
    digest = hashlib.sha256(f"python{sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    if spec.source is None:
        digest.update(json.dumps(pyproject_dependencies(spec.root)).encode())
    else:
        for path in _included(spec.source, set()):
            digest.update(path.read_bytes())
    return f"sha256:{digest.hexdigest()}"


def read_lock(path: Path) -> Lock | None:
    """The bigflow header of a lock file (None when the file does not exist)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    lock = Lock()
    for line in text.splitlines():
        if line.startswith(HASH_PREFIX):
            lock.source_hash = line[len(HASH_PREFIX):].strip()
        elif line.startswith(LOCAL_PREFIX):
            lock.local.append(line[len(LOCAL_PREFIX):].strip())
        elif line and not line.startswith("#"):
            break
    return lock


def check_stale(project: Any) -> str | None:
    """Why the project's lock is stale (one line with the fix), or None when it is current or not used."""
    spec = lock_spec(project)
    lock = read_lock(spec.lock)
    if lock is None:
        if spec.source is not None:
            return f"{spec.source_label} is not locked yet: run '{COMMAND}'"
        return None
    if lock.source_hash is None:
        if spec.source is None:
            return None  # a requirements.txt of the user's own, not a bigflow lock
        return f"{spec.lock_label} was not locked by bigflow: run '{COMMAND}'"
    if lock.source_hash != source_hash(spec):
        return f"{spec.lock_label} is stale ({spec.source_label} changed since it was locked): run '{COMMAND}'"
    return None


def local_sources(exclude: str | None = None) -> dict[str, Path]:
    """Distributions of this environment installed from a local directory: normalized name -> directory."""
    found: dict[str, Path] = {}
    for dist in metadata.distributions():
        text = dist.read_text("direct_url.json")
        if not text:
            continue
        try:
            info = json.loads(text)
        except ValueError:
            continue
        url = info.get("url", "")
        if "dir_info" not in info or not url.startswith("file:"):
            continue
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        directory = Path(unquote(urlparse(url).path))
        if name != exclude and directory.is_dir():
            found[name] = directory
    return found


def _excluded(output: str) -> list[str]:
    """Names uv lists under 'The following packages were excluded from the output'."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("# The following packages were excluded"):
            return [rest.lstrip("#").strip() for rest in lines[index + 1:] if rest.startswith("# ")]
    return []


def lock(project: Any, destination: Path | None = None) -> tuple[LockSpec, Lock]:
    """Compile the lock file atomically (a failure leaves the previous lock untouched).

    ``destination`` writes it elsewhere than the project's lock file (the image builder, when there is none).
    """
    spec = lock_spec(project)
    target = destination or spec.lock
    previous = read_lock(spec.lock)
    if destination is None and spec.source is None and spec.lock.exists() and (
            previous is None or previous.source_hash is None):
        raise BigflowError(
            f"{spec.lock_label} was not written by bigflow; rename it to requirements.in to lock it, or delete it"
        )
    project_name = re.sub(r"[-_.]+", "-", project.name).lower()
    local = local_sources(exclude=project_name)
    with tempfile.TemporaryDirectory(prefix="bigflow-lock-") as tmp:
        work = Path(tmp)
        if spec.source is None:
            source = work / "requirements.in"
            source.write_text("\n".join(pyproject_dependencies(spec.root)) + "\n")
        else:
            source = spec.source
        overrides = work / "local-sources.txt"
        overrides.write_text("".join(f"{name} @ {path.as_uri()}\n" for name, path in sorted(local.items())))
        output = work / "requirements.txt"
        args = [
            uv_binary(), "pip", "compile", str(source), "--quiet", "--generate-hashes", "--universal",
            "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}",
            "--custom-compile-command", COMMAND, "--override", str(overrides), "--output-file", str(output),
        ]
        for name in sorted(local):
            args += ["--no-emit-package", name]
        run_tool(args, cwd=spec.root, what=f"locking {spec.source_label}")
        body = output.read_text()
        result = Lock(source_hash(spec), sorted(n for n in _excluded(body) if n in local))
        header = [
            f"# Locked by '{COMMAND}' from {spec.source_label}; do not edit, edit the source and run it again.",
            f"{HASH_PREFIX}{result.source_hash}",
            *(f"{LOCAL_PREFIX}{name}" for name in result.local),
        ]
        target.parent.mkdir(parents=True, exist_ok=True)
        final = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        final.write_text("\n".join(header) + "\n" + body)
        final.replace(target)
    return spec, result


class RequirementsBuilder:
    """Artifact builder ``requirements``: the hashed lock file."""

    options = ()

    def build(self, project: Any, env: Any, options: Mapping[str, Any]) -> list[Artifact]:
        spec, result = lock(project)
        pinned = sum(1 for line in spec.lock.read_text().splitlines() if re.match(r"^[A-Za-z0-9].*==", line))
        local = f", {len(result.local)} from local directories ({', '.join(result.local)})" if result.local else ""
        say(f"Locked {spec.source_label} -> {spec.lock_label}: {pinned} pinned, hashed packages{local}")
        return [Artifact.for_file("requirements", project.root, spec.lock, source=spec.source_label,
                                  packages=pinned, local=result.local)]
