"""The deploy lock of one project in its bucket: a lease its holder renews, so that nobody is stranded.

The lock is one object (``dags/<project>/.bigflow/deploy.lock``) created with ``if_generation_match=0``. While
the deploy runs, a heartbeat thread rewrites it every quarter of the lease (``deploy_lock_lease_sec``, default
20 s), each time with the generation it wrote last, so every renewal is a new generation. A holder that has not
renewed within two thirds of the lease, or whose renewal found another generation, has lost the lock and stops
before its next storage write.

Another deploy that finds the lock watches its generation: a lock that does not change for a whole lease has a
dead holder and is taken over (with a generation precondition, so two takers cannot both win). A lock of a
process that is gone — the same host and a pid that no longer runs, or this very process but no live lease —
is taken over at once; that also undoes a lock write that a hung bucket applied after its deploy gave up.
A live holder (the lock changes) makes the other deploy wait up to ``deploy_lock_timeout_sec`` (default 0),
then fail naming the holder. ``bigflow deploy composer --break-lock`` removes a lock after a confirmation.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bigflow.api import BigflowError, RefusedError
from bigflow_airflow.bucket import Bucket, signals_to_main_thread

_LIVE: set[str] = set()  # tokens of the leases this process holds now
_POLL_SEC = 0.5


def _describe(info: dict[str, Any], name: str, bucket: Bucket) -> str:
    started = info.get("started", "?")
    return (f"{info.get('by', '?')} (pid {info.get('pid', '?')}), version {info.get('version', '?')}, started "
            f"{started}; lock {bucket.uri(name)}")


def _gone(info: dict[str, Any]) -> bool:
    """Whether the holder is a process known not to run: one of ours without a live lease, or a dead pid here."""
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    if info["pid"] == os.getpid():
        return info.get("token") not in _LIVE
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    """A held deploy lock; ``check()`` before each write, ``release()`` at the end."""

    def __init__(self, bucket: Bucket, name: str, seconds: float, owner: dict[str, Any]) -> None:
        self.bucket = bucket
        self.name = name
        self.seconds = seconds
        self.token = secrets.token_hex(8)
        self.info = {**owner, "host": socket.gethostname(), "pid": os.getpid(), "token": self.token,
                     "by": f"{getpass.getuser()}@{socket.gethostname()}", "lease_sec": seconds,
                     "started": datetime.now(UTC).isoformat(timespec="seconds")}
        self.body = json.dumps(self.info).encode()
        self.generation = 0
        self.renewed = 0.0
        self.lost = ""
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- taking it --------------------------------------------------------------------------------

    def _take(self, generation: int, what: str) -> bool:
        from google.api_core import exceptions

        started = time.monotonic()
        _LIVE.add(self.token)
        try:
            self.generation = self.bucket.write(self.name, self.body, what, generation=generation,
                                                content_type="application/json")
        except exceptions.PreconditionFailed:
            _LIVE.discard(self.token)
            return False
        except BaseException:
            _LIVE.discard(self.token)
            self._undo_late_write()
            raise
        self.renewed = started
        self._thread = threading.Thread(target=self._beat, name=f"bigflow deploy lock {self.name}", daemon=True)
        self._thread.start()
        return True

    def _undo_late_write(self) -> None:
        """After a failed create: remove the lock if the bucket did write it (a short, single attempt)."""
        try:
            quick = min(2.0, self.bucket.request_timeout / 2)
            held = self.bucket.read(self.name, "checking the deploy lock", timeout=quick)
            if held and json.loads(held[1]).get("token") == self.token:
                self.bucket.delete(self.name, "removing the deploy lock", generation=held[0], timeout=quick)
        except (BigflowError, ValueError):
            pass  # the bucket is away: the lock, if written later, is one of a gone process (see _gone)

    def acquire(self, wait_sec: float) -> Lease:
        """Take the lock, taking over a dead holder's; a live holder is waited for up to ``wait_sec``."""
        give_up = time.monotonic() + wait_sec
        while True:
            if self._take(0, "locking the deploy"):
                return self
            held = self.bucket.read(self.name, "reading the deploy lock")
            if held is None:
                continue  # released meanwhile
            info = _parse(held[1])
            if _gone(info) or self._unchanged_for_a_lease(held[0], info):
                if self._take(held[0], "taking over the deploy lock of a stopped deploy"):
                    return self
                continue
            if time.monotonic() >= give_up:
                raise RefusedError(f"another deploy of this project is running ({_describe(info, self.name, self.bucket)}"
                                   "); wait for it and deploy again, or set deploy_lock_timeout_sec to wait")

    def _unchanged_for_a_lease(self, generation: int, info: dict[str, Any]) -> bool:
        """Watch the lock for the holder's lease: True when it stayed at ``generation`` (the holder is dead)."""
        lease = info.get("lease_sec")
        lease = float(lease) if isinstance(lease, int | float) and 0 < lease <= 3600 else self.seconds
        until = time.monotonic() + lease
        while time.monotonic() < until:
            self.bucket.stop.wait(_POLL_SEC)
            if self.bucket.stop.is_set():
                self.bucket.call("waiting for the deploy lock", lambda: None)  # raises Interrupted
            held = self.bucket.read(self.name, "watching the deploy lock")
            if held is None or held[0] != generation:
                return False
        return True

    # -- holding it -------------------------------------------------------------------------------

    def _beat(self) -> None:
        from google.api_core import exceptions

        signals_to_main_thread()
        while not self._stop.wait(self.seconds / 4):
            started = time.monotonic()
            with self._guard:
                if self._stop.is_set():
                    return
                try:
                    self.generation = self.bucket.write(self.name, self.body, "renewing the deploy lock",
                                                        generation=self.generation, content_type="application/json",
                                                        timeout=min(self.seconds / 4, self.bucket.request_timeout))
                except exceptions.PreconditionFailed:
                    self.lost = "another deploy took the lock over"
                    return
                except BigflowError:
                    continue  # not renewed this time; check() tells when the lease ran out
                self.renewed = started

    def check(self) -> None:
        """Raise when the lock is no longer surely ours."""
        if not self.lost and time.monotonic() - self.renewed > self.seconds * 2 / 3:
            self.lost = f"not renewed for {self.seconds * 2 / 3:g} s (the bucket did not answer)"
        if self.lost:
            raise BigflowError(f"lost the deploy lock {self.bucket.uri(self.name)}: {self.lost}; stopped before "
                               "changing anything more")

    def release(self) -> None:
        """Stop renewing, then delete the lock: one short attempt, not waiting long for a renewal in flight (a
        lock left behind is of a gone process, taken over at once by the next deploy)."""
        self._stop.set()
        quick = min(5.0, self.bucket.request_timeout / 2)
        guarded = self._guard.acquire(timeout=quick)
        try:
            _LIVE.discard(self.token)
            if not self.lost:
                self.bucket.delete(self.name, "releasing the deploy lock", generation=self.generation, timeout=quick,
                                   stoppable=False)
        except BigflowError:
            pass
        finally:
            if guarded:
                self._guard.release()


def _parse(data: bytes) -> dict[str, Any]:
    try:
        info = json.loads(data)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def break_lock(bucket: Bucket, name: str, confirm: Callable[[str], bool]) -> bool:
    """Delete the lock after ``confirm(description)`` says yes; False when there was none or it was declined."""
    held = bucket.read(name, "reading the deploy lock")
    if held is None:
        return False
    if not confirm(_describe(_parse(held[1]), name, bucket)):
        raise RefusedError("the deploy lock was left in place")
    bucket.delete(name, "breaking the deploy lock", generation=held[0])
    return True
