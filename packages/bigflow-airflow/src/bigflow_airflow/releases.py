"""The DAG files of one project in its Composer bucket as releases, switched by one object write.

Layout under ``dags/<project>/``:

- ``.bigflow/releases/<release>/<dag file>.src``: the DAG files of one deploy. The release id is a hash of the
  files, so the same set is the same release and a rerun after a failure reuses what was uploaded.
- ``.bigflow/current.json``: the release Airflow should see (its files and their digests) and the previous one.
- ``bigflow_dags.py``: the loader (``composer_loader.py``); the only file of the project Airflow parses.

A deploy uploads the new release (invisible to Airflow), writes ``current.json`` with a generation precondition
— the switch, one object — then the loader if it is missing or outdated, then removes what is neither the
current nor the previous release, and the per-DAG files of the layout before releases.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files as package_files
from typing import Any

from bigflow.api import BigflowError, progress
from bigflow_airflow.bucket import Bucket, Remote, md5_base64

STATE = ".bigflow/"
POINTER = STATE + "current.json"
RELEASES = STATE + "releases/"
LOCK = STATE + "deploy.lock"
LOADER = "bigflow_dags.py"
SOURCE_SUFFIX = ".src"


def loader_source() -> bytes:
    return package_files("bigflow_airflow").joinpath("composer_loader.py").read_bytes()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def release_id(files: Mapping[str, bytes]) -> str:
    listing = "".join(f"{name}\0{sha256(data)}\n" for name, data in sorted(files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


@dataclass
class Changes:
    """DAG file names to add, change, remove, and those already equal, against what Airflow sees now."""

    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class Deployed:
    """What the bucket holds under the project's prefix."""

    objects: dict[str, Remote]  # relative name -> object
    pointer: dict[str, Any] | None
    pointer_generation: int

    @property
    def release(self) -> str | None:
        return self.pointer["release"] if self.pointer else None

    @property
    def legacy(self) -> dict[str, Remote]:
        """Per-DAG files of the layout before releases (``dags/<project>/<dag>.py``)."""
        return {n: r for n, r in self.objects.items() if "/" not in n and n.endswith(".py") and n != LOADER}

    def matches(self, name: str, data: bytes) -> bool | None:
        """Whether Airflow sees ``data`` as ``name`` now (None: it has no such DAG file)."""
        if self.pointer is not None:
            digest = self.pointer["files"].get(name)
            return None if digest is None else digest == sha256(data)
        remote = self.legacy.get(name)
        return None if remote is None else remote.md5 == md5_base64(data)

    def current_names(self) -> set[str]:
        return set(self.pointer["files"]) if self.pointer is not None else set(self.legacy)


class Releases:
    """The releases of one project (prefix ``dags/<project>/``) in ``bucket``."""

    def __init__(self, bucket: Bucket, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix

    def uri(self, name: str = "") -> str:
        return self.bucket.uri(self.prefix + name)

    def deployed(self) -> Deployed:
        listed = self.bucket.list(self.prefix, "listing the DAG files")
        objects = {name[len(self.prefix):]: remote for name, remote in listed.items()}
        held = self.bucket.read(self.prefix + POINTER, "reading the current release")
        pointer, generation = None, 0
        if held is not None:
            generation = held[0]
            try:
                pointer = json.loads(held[1])
                assert isinstance(pointer["release"], str) and isinstance(pointer["files"], dict)
            except (ValueError, KeyError, TypeError, AssertionError):
                raise BigflowError(f"{self.uri(POINTER)} is not a release pointer written by bigflow; remove it by "
                                   "hand if no DAG of this project runs from it, then deploy again") from None
        return Deployed(objects, pointer, generation)

    @staticmethod
    def changes(deployed: Deployed, files: Mapping[str, bytes]) -> Changes:
        changes = Changes()
        for name in sorted(files):
            same = deployed.matches(name, files[name])
            (changes.add if same is None else changes.unchanged if same else changes.change).append(name)
        changes.remove = sorted(deployed.current_names() - set(files))
        return changes

    def upload(self, deployed: Deployed, release: str, files: Mapping[str, bytes],
               before_write: Callable[[], None]) -> None:
        """Every file of ``release`` not in the bucket yet (in parallel)."""
        from google.api_core import exceptions

        counted = itertools.count(1)

        def put(name: str) -> None:
            relative = f"{RELEASES}{release}/{name}{SOURCE_SUFFIX}"
            present = deployed.objects.get(relative)
            if present is None or present.md5 != md5_base64(files[name]):
                before_write()
                try:
                    self.bucket.write(self.prefix + relative, files[name], f"uploading {name}",
                                      generation=present.generation if present else 0, content_type="text/x-python")
                except exceptions.PreconditionFailed:
                    raise BigflowError(f"{self.uri(relative)} was written by someone else during this deploy; "
                                       "nothing was switched — deploy again") from None
            shown.update(f"uploading DAG files: {next(counted)} of {len(files)} in the bucket")

        with progress(f"uploading DAG files: 0 of {len(files)} in the bucket") as shown:
            self.bucket.each(put, files)

    def switch(self, deployed: Deployed, release: str, version: str, files: Mapping[str, bytes]) -> None:
        """Point Airflow at ``release`` (one write, only over the pointer this deploy read), then the loader."""
        from google.api_core import exceptions

        if deployed.release != release:
            current = deployed.pointer and {k: deployed.pointer[k] for k in ("release", "version", "files")}
            pointer = {"release": release, "version": version, "files": {n: sha256(d) for n, d in files.items()},
                       "deployed": datetime.now(UTC).isoformat(timespec="seconds"), "previous": current}
            try:
                self.bucket.write(self.prefix + POINTER, json.dumps(pointer, indent=1, sort_keys=True).encode(),
                                  "switching to the new release", generation=deployed.pointer_generation,
                                  content_type="application/json")
            except exceptions.PreconditionFailed:
                raise BigflowError(f"{self.uri(POINTER)} was changed by someone else during this deploy; nothing "
                                   "was switched — deploy again") from None
            deployed.pointer, deployed.pointer_generation = pointer, -1
        loader = loader_source()
        present = deployed.objects.get(LOADER)
        if present is None or present.md5 != md5_base64(loader):
            try:
                self.bucket.write(self.prefix + LOADER, loader, "writing the DAG loader",
                                  generation=present.generation if present else 0, content_type="text/x-python")
            except exceptions.PreconditionFailed:
                raise BigflowError(f"{self.uri(LOADER)} was changed by someone else during this deploy; deploy "
                                   "again") from None

    def leftovers(self, deployed: Deployed) -> dict[str, Remote]:
        """Objects no Airflow parse needs once ``deployed.pointer`` is current: older releases (what a killed
        deploy left too) and the per-DAG files of the layout before releases."""
        pointer = deployed.pointer or {}
        keep = {pointer.get("release"), (pointer.get("previous") or {}).get("release")}
        stale = {n: r for n, r in deployed.objects.items()
                 if n.startswith(RELEASES) and n[len(RELEASES):].split("/", 1)[0] not in keep}
        return {**stale, **deployed.legacy}

    def clean(self, deployed: Deployed, before_write: Callable[[], None]) -> None:
        def remove(name: str) -> None:
            before_write()
            self.bucket.delete(self.prefix + name, f"removing {name}", generation=deployed.objects[name].generation)

        self.bucket.each(remove, sorted(self.leftovers(deployed)))
