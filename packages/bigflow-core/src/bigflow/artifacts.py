"""Build artifacts and the build manifest that deploy targets read, so they use exactly what was built.

An artifact builder (``bigflow.api.ArtifactBuilder``) returns ``Artifact`` records; ``bigflow build`` writes
them to ``build/manifest.json``. A deploy target (``bigflow.api.DeployTarget``) reads the manifest and returns a
``Plan`` of what it would do, or did.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bigflow.errors import BigflowError

MANIFEST = Path("build") / "manifest.json"


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


@dataclass
class Artifact:
    """One thing a builder produced: a file (wheel, DAG file) or a reference (an image in a registry)."""

    kind: str  # e.g. "wheel", "sdist", "image", "dag"
    name: str
    path: str | None = None  # relative to the project root, for files
    digest: str | None = None  # "sha256:..." (files: of the bytes; images: the image/manifest digest)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_file(cls, kind: str, root: Path, path: Path, **details: Any) -> Artifact:
        return cls(kind, path.name, str(path.relative_to(root)), file_digest(path), dict(details))


@dataclass
class Manifest:
    """Everything the last ``bigflow build`` produced, for one project version."""

    project: str
    version: str
    artifacts: list[Artifact] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == kind]

    def replace(self, kinds: Iterable[str], artifacts: Iterable[Artifact]) -> None:
        """Swap the artifacts of the given kinds for new ones (a rebuilt kind replaces its old records)."""
        kinds = set(kinds)
        self.artifacts = [a for a in self.artifacts if a.kind not in kinds] + list(artifacts)

    def write(self, root: Path) -> Path:
        """Write atomically: a reader never sees a half-written manifest."""
        path = root / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, root: Path, *, required: bool = True, rebuild: str = "bigflow build") -> Manifest | None:
        """The manifest of the project at ``root``; None when absent and not ``required``.

        A missing (when required), truncated or malformed manifest is a one-line error whose hint is the
        command ``rebuild`` (e.g. ``bigflow build --config prod``); a malformed one is a ``CorruptManifest``.
        """
        path = root / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            if required:
                raise BigflowError(f"{MANIFEST} not found; run '{rebuild}' first") from None
            return None
        except ValueError as error:
            raise CorruptManifest(f"{MANIFEST} is not valid JSON ({error}); run '{rebuild}' to rebuild it") from None
        try:
            return cls(str(data["project"]), str(data["version"]),
                       [Artifact(**a) for a in data.get("artifacts", [])])
        except (KeyError, TypeError, AttributeError) as error:
            problem = f"has no {error.args[0]!r}" if isinstance(error, KeyError) else "is not a bigflow manifest"
            raise CorruptManifest(f"{MANIFEST} {problem}; run '{rebuild}' to rebuild it") from None


class CorruptManifest(BigflowError):
    """``build/manifest.json`` exists but cannot be read (``bigflow build`` starts a new one)."""


@dataclass
class Plan:
    """What a deploy would do: paths or names added, changed and removed, plus notes."""

    target: str
    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add or self.change or self.remove)
