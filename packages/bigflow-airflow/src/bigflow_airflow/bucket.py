"""One Composer bucket through google-cloud-storage, with bounded waits and one-line errors.

Every call has a per-request timeout of half ``storage_timeout_sec`` and a retry budget of
``storage_timeout_sec`` (transient errors and refused connections are retried until it is spent), so a call
gives up within 1.5 × ``storage_timeout_sec``. Calls run in parallel stop at the first failure or interruption:
nothing new starts, queued calls are dropped, and the ones in flight finish within their own bound. An
unreachable bucket is reported as ``bucket gs://NAME is unreachable at ENDPOINT while WHAT: REASON``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from bigflow.api import BigflowError

GOOGLE_ENDPOINT = "https://storage.googleapis.com"


def md5_base64(data: bytes) -> str:
    """The object MD5 as GCS reports it (base64 of the digest)."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - GCS's checksum, not security


@dataclass(frozen=True)
class Remote:
    generation: int
    md5: str | None


class Interrupted(BigflowError):
    """A signal asked the deploy to stop; raised where the next storage call would have started."""


def network_reason(error: BaseException, timeout: float) -> str:
    """The telling part of a network error (``[Errno 111] Connection refused``), not a urllib3 repr."""
    text = str(getattr(error, "cause", None) or error)
    if "timed out" in text.lower() or "timeout" in type(getattr(error, "cause", None) or error).__name__.lower():
        return f"no answer within {timeout:g} s"
    found = re.findall(r"\[Errno -?\d+\] [^'\")\]]+", text)
    return found[-1].strip() if found else (text.splitlines() or [type(error).__name__])[0][:200]


def signals_to_main_thread() -> None:
    """Block SIGINT and SIGTERM in a worker thread, so the kernel delivers them to the main thread, whose wait
    they interrupt: its handler runs at once instead of at the next poll, while uploads go on."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


class Bucket:
    """The objects of one bucket. ``stop`` (an Event) makes the next call raise ``Interrupted``."""

    def __init__(self, client: Any, name: str, *, timeout: float = 60.0, endpoint: str = GOOGLE_ENDPOINT) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.client = client
        self.name = name
        self.endpoint = endpoint
        self.timeout = timeout
        self.request_timeout = timeout / 2
        self.retry = DEFAULT_RETRY.with_timeout(timeout).with_delay(initial=0.2, maximum=timeout / 4)
        self.bucket = client.bucket(name)
        self.stop = threading.Event()
        self.stopped_by = ""

    def uri(self, name: str = "") -> str:
        return f"gs://{self.name}/{name}"

    def call(self, what: str, function: Callable[[], Any], passthrough: tuple[type[Exception], ...] = (), *,
             stoppable: bool = True) -> Any:
        """Run a storage call; missing buckets, refused credentials and network errors become one line.

        Exceptions in ``passthrough`` (e.g. an object's ``NotFound``) are the caller's to handle. A ``stoppable``
        call does not start once ``stop`` is set (releasing the lock is not stoppable).
        """
        from google.api_core import exceptions
        from google.auth.exceptions import DefaultCredentialsError, TransportError

        if stoppable and self.stop.is_set():
            raise Interrupted(f"stopped by {self.stopped_by or 'an earlier failure'} before {what}")
        try:
            return function()
        except passthrough:
            raise
        except exceptions.NotFound:
            raise BigflowError(f"bucket gs://{self.name} does not exist (dags_bucket); check the name "
                               "of the Composer environment's bucket") from None
        except exceptions.Forbidden as error:
            raise BigflowError(f"access to gs://{self.name} refused while {what}: {error.message}") from None
        except (exceptions.RetryError, exceptions.ServiceUnavailable, exceptions.InternalServerError,
                TransportError, ConnectionError, OSError) as error:
            raise BigflowError(f"bucket gs://{self.name} is unreachable at {self.endpoint} while {what}: "
                               f"{network_reason(error, self.request_timeout)}") from None
        except DefaultCredentialsError:
            raise BigflowError("no Google credentials to reach the bucket: run 'gcloud auth application-default "
                               "login' or set GOOGLE_APPLICATION_CREDENTIALS") from None

    def list(self, prefix: str, what: str) -> dict[str, Remote]:
        """Objects under ``prefix``, by full name."""
        def fetch() -> dict[str, Remote]:
            blobs = self.client.list_blobs(self.name, prefix=prefix, retry=self.retry, timeout=self.request_timeout)
            return {b.name: Remote(b.generation, b.md5_hash) for b in blobs}

        return self.call(what, fetch)

    def read(self, name: str, what: str, *, timeout: float | None = None) -> tuple[int, bytes] | None:
        """(generation, content) of an object, or None when there is none."""
        from google.api_core import exceptions

        blob = self.bucket.blob(name)

        def fetch() -> tuple[int, bytes]:
            data = blob.download_as_bytes(retry=self.retry if timeout is None else None,
                                          timeout=timeout or self.request_timeout)
            return blob.generation, data

        try:
            return self.call(what, fetch, (exceptions.NotFound,))
        except exceptions.NotFound:
            return None

    def write(self, name: str, data: bytes, what: str, *, generation: int, content_type: str,
              timeout: float | None = None) -> int:
        """Create (``generation=0``) or replace the object of that generation; its new generation.

        ``timeout`` makes it one attempt with that timeout. ``PreconditionFailed`` is the caller's — unless the
        object holds ``data`` already: an attempt that timed out on our side was applied, and its retry failed.
        """
        from google.api_core import exceptions

        blob = self.bucket.blob(name)

        def upload() -> int:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=generation,
                                    retry=self.retry if timeout is None else None,
                                    timeout=timeout or self.request_timeout)
            return blob.generation

        try:
            return self.call(what, upload, (exceptions.PreconditionFailed,))
        except exceptions.PreconditionFailed:
            held = self.read(name, what, timeout=timeout)
            if held is not None and held[1] == data:
                return held[0]
            raise

    def delete(self, name: str, what: str, *, generation: int | None = None, timeout: float | None = None,
               stoppable: bool = True) -> bool:
        """Delete the object (of that generation); False when it is gone or another generation."""
        from google.api_core import exceptions

        blob = self.bucket.blob(name)
        try:
            self.call(what, lambda: blob.delete(if_generation_match=generation,
                                                retry=self.retry if timeout is None else None,
                                                timeout=timeout or self.request_timeout),
                      (exceptions.NotFound, exceptions.PreconditionFailed), stoppable=stoppable)
        except (exceptions.NotFound, exceptions.PreconditionFailed):
            return False
        return True

    def each(self, action: Callable[[str], None], names: Iterable[str], workers: int = 8) -> None:
        """``action(name)`` for every name, in parallel; at the first error nothing new starts, queued calls are
        dropped, the running ones finish, and that error is raised."""
        names = list(names)
        if not names:
            return
        failed = threading.Event()

        def guarded(name: str) -> None:
            if failed.is_set():
                return
            if self.stop.is_set():  # a queued call never starts after a signal, not even to be refused
                failed.set()
                raise Interrupted(f"stopped by {self.stopped_by or 'an earlier failure'}")
            try:
                action(name)
            except BaseException:
                failed.set()
                raise

        pool = ThreadPoolExecutor(max_workers=min(workers, len(names)), initializer=signals_to_main_thread)
        try:
            futures = [pool.submit(guarded, name) for name in names]
            while wait(futures, timeout=0.1, return_when=FIRST_EXCEPTION).not_done and not failed.is_set():
                pass  # waking up often lets a signal delivered to a worker thread run its handler here
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
        if errors:
            raise next((e for e in errors if not isinstance(e, Interrupted)), errors[0])
