"""Syncing one project's DAG files into a Composer bucket, safely.

- Only this project's prefix (``dags/<project>/``) is listed, written or deleted.
- Only changed files are uploaded (the local MD5 against the object's), each with a generation precondition:
  ``if_generation_match=0`` for a new file, the listed generation for a changed one. A file someone else
  changed since the listing fails the deploy instead of being overwritten.
- A lock object (``dags/<project>/.bigflow-deploy.lock``, created with ``if_generation_match=0``) makes
  concurrent deploys of the same project fail fast instead of interleaving. A lock older than
  ``deploy_lock_timeout_sec`` is from a crashed deploy and is taken over.
- Stale files are deleted only after every new file is in place, so an interrupted deploy leaves a
  complete set of DAGs (each one old or new, none missing), and running it again finishes the job.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bigflow.api import BigflowError

LOCK_NAME = ".bigflow-deploy.lock"
CONTENT_TYPE = "text/x-python"


def md5_base64(data: bytes) -> str:
    """The object MD5 as GCS reports it (base64 of the digest)."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - GCS's checksum, not security


@dataclass(frozen=True)
class Remote:
    generation: int
    md5: str | None


@dataclass
class SyncPlan:
    """Object names (relative to the prefix) to add, change, remove, and those already equal."""

    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def network_reason(error: BaseException) -> str:
    """The telling part of a network error (``[Errno 111] Connection refused``), not a urllib3 repr."""
    text = str(getattr(error, "cause", None) or error)
    found = re.findall(r"\[Errno -?\d+\] [^'\")\]]+", text)
    return found[-1].strip() if found else (text.splitlines() or [type(error).__name__])[0][:200]


class BucketSync:
    """The DAG files of one project in one bucket prefix."""

    def __init__(self, client: Any, bucket_name: str, prefix: str, *, timeout: float = 60.0) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.client = client
        self.bucket_name = bucket_name
        self.bucket = client.bucket(bucket_name)
        self.prefix = prefix  # "dags/<project>/"
        self.timeout = timeout
        self.retry = DEFAULT_RETRY.with_timeout(timeout)
        self.remote: dict[str, Remote] = {}

    def uri(self, name: str = "") -> str:
        return f"gs://{self.bucket_name}/{self.prefix}{name}"

    def _call(self, what: str, function: Callable[[], Any], passthrough: tuple[type[Exception], ...] = ()) -> Any:
        """Run a storage call; missing buckets, refused credentials and network errors become one line.

        Exceptions in ``passthrough`` (e.g. an object's ``NotFound``) are the caller's to handle.
        """
        from google.api_core import exceptions
        from google.auth.exceptions import DefaultCredentialsError, TransportError

        try:
            return function()
        except passthrough:
            raise
        except exceptions.NotFound:
            raise BigflowError(f"bucket gs://{self.bucket_name} does not exist (dags_bucket); check the name "
                               "of the Composer environment's bucket") from None
        except exceptions.Forbidden as error:
            raise BigflowError(f"access to gs://{self.bucket_name} refused while {what}: {error.message}") from None
        except (exceptions.RetryError, exceptions.ServiceUnavailable, TransportError, ConnectionError,
                OSError) as error:
            raise BigflowError(f"bucket gs://{self.bucket_name} is unreachable while {what}: "
                               f"{network_reason(error)}") from None
        except DefaultCredentialsError:
            raise BigflowError("no Google credentials to reach the bucket: run 'gcloud auth application-default "
                               "login' or set GOOGLE_APPLICATION_CREDENTIALS") from None

    def list(self) -> dict[str, Remote]:
        """This project's objects (without the lock), by name relative to the prefix."""
        def fetch() -> dict[str, Remote]:
            blobs = self.client.list_blobs(self.bucket_name, prefix=self.prefix, retry=self.retry,
                                           timeout=self.timeout)
            return {b.name[len(self.prefix):]: Remote(b.generation, b.md5_hash) for b in blobs
                    if b.name[len(self.prefix):] != LOCK_NAME}

        self.remote = self._call("listing the DAG files", fetch)
        return self.remote

    def plan(self, files: Mapping[str, bytes]) -> SyncPlan:
        plan = SyncPlan()
        for name in sorted(files):
            remote = self.remote.get(name)
            if remote is None:
                plan.add.append(name)
            elif remote.md5 != md5_base64(files[name]):
                plan.change.append(name)
            else:
                plan.unchanged.append(name)
        plan.remove = sorted(set(self.remote) - set(files))
        return plan

    # -- the lock ---------------------------------------------------------------------------------

    def acquire(self, version: str, lock_timeout: float) -> int:
        """Create the lock object; its generation. A live lock of another deploy is a one-line error."""
        from google.api_core import exceptions

        blob = self.bucket.blob(self.prefix + LOCK_NAME)
        started = datetime.now(UTC)
        owner = {"by": f"{getpass.getuser()}@{socket.gethostname()}", "pid": os.getpid(), "version": version,
                 "started": started.isoformat(timespec="seconds")}
        body = json.dumps(owner)

        def create(generation: int) -> int:
            blob.upload_from_string(body, content_type="application/json", if_generation_match=generation,
                                    retry=self.retry, timeout=self.timeout)
            return blob.generation

        for _ in range(3):  # the lock may vanish between a failed create and reading it: try again
            try:
                return self._call("locking the deploy", lambda: create(0), (exceptions.PreconditionFailed,))
            except exceptions.PreconditionFailed:
                pass
            try:
                held = self._call("reading the deploy lock", lambda: (blob.reload(), blob.download_as_bytes())[1],
                                  (exceptions.NotFound,))
            except exceptions.NotFound:
                continue
            try:
                info = json.loads(held)
                since = datetime.fromisoformat(info["started"])
            except (ValueError, KeyError, TypeError):
                info, since = {"by": "?"}, blob.updated or started
            age = (started - since).total_seconds()
            if age <= lock_timeout:
                raise BigflowError(
                    f"another deploy of this project is running ({info.get('by')}, version {info.get('version')}, "
                    f"started {int(age)} s ago; lock {self.uri(LOCK_NAME)}); wait for it and deploy again")
            try:  # a crashed deploy's lock: take it over, unless someone else just did
                return self._call("taking over a stale deploy lock", lambda: create(blob.generation),
                                  (exceptions.PreconditionFailed,))
            except exceptions.PreconditionFailed:
                break
        raise BigflowError(f"another deploy is taking the lock {self.uri(LOCK_NAME)} right now; wait for it and "
                           "deploy again")

    def release(self, generation: int) -> None:
        from google.api_core import exceptions

        try:
            self.bucket.blob(self.prefix + LOCK_NAME).delete(if_generation_match=generation, timeout=self.timeout)
        except (exceptions.NotFound, exceptions.PreconditionFailed):
            pass  # taken over after a timeout: not ours to delete

    # -- changes ----------------------------------------------------------------------------------

    def _conflict(self, name: str) -> BigflowError:
        return BigflowError(f"{self.uri(name)} was changed by someone else during this deploy; nothing was "
                            "removed — deploy again to finish")

    def upload(self, name: str, data: bytes) -> None:
        from google.api_core import exceptions

        remote = self.remote.get(name)
        blob = self.bucket.blob(self.prefix + name)
        try:
            self._call(f"uploading {name}", lambda: blob.upload_from_string(
                data, content_type=CONTENT_TYPE, if_generation_match=remote.generation if remote else 0,
                retry=self.retry, timeout=self.timeout), (exceptions.PreconditionFailed,))
        except exceptions.PreconditionFailed:
            raise self._conflict(name) from None

    def delete(self, name: str) -> None:
        from google.api_core import exceptions

        blob = self.bucket.blob(self.prefix + name)
        try:
            self._call(f"removing {name}", lambda: blob.delete(
                if_generation_match=self.remote[name].generation, retry=self.retry, timeout=self.timeout),
                (exceptions.NotFound, exceptions.PreconditionFailed))
        except exceptions.NotFound:
            pass
        except exceptions.PreconditionFailed:
            raise self._conflict(name) from None

    def apply(self, plan: SyncPlan, files: Mapping[str, bytes], *, workers: int = 8) -> None:
        """Upload added and changed files (in parallel), then remove stale ones — only if every upload worked."""
        self._each(lambda name: self.upload(name, files[name]), [*plan.add, *plan.change], workers)
        self._each(self.delete, plan.remove, workers)

    @staticmethod
    def _each(action: Callable[[str], None], names: Iterable[str], workers: int) -> None:
        names = list(names)
        if not names:
            return
        with ThreadPoolExecutor(max_workers=min(workers, len(names))) as pool:
            futures = [pool.submit(action, name) for name in names]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]
