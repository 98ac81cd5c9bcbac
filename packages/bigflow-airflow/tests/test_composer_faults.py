"""Faults of ``bigflow deploy composer`` against a real fake-gcs-server that the tests kill, restart, stop and
resume, with a project of 200 DAG files: the bucket always holds the complete old or the complete new set, the
deploy gives up within 2 × ``storage_timeout_sec`` naming the bucket, signals stop the uploads before the lock
is released, a late lock write is undone, and the next deploy succeeds at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from itertools import count
from pathlib import Path

import pytest
from airflow_projects import JOBS, make_project
from composer_view import visible
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bigflow.api import environment
from bigflow.artifacts import Artifact, Manifest
from bigflow.errors import BigflowError
from bigflow_airflow.bucket import Bucket
from bigflow_airflow.composer import ComposerTarget
from bigflow_airflow.deploy_lock import Lease
from bigflow_airflow.releases import LOCK, POINTER

TIMEOUT = 5  # storage_timeout_sec of these tests
LEASE = 30  # deploy_lock_lease_sec: a deploy quicker than this did not wait for a lock to expire
DAGS = 200
_ids = count()


@pytest.fixture
def bucket(gcs_server):
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_server.url})
    return client.create_bucket("faults")


@pytest.fixture
def project(tmp_path, gcs_server, bucket):
    env = {"dags_bucket": bucket.name, "storage_endpoint": gcs_server.url, "storage_timeout_sec": TIMEOUT,
           "deploy_lock_lease_sec": LEASE}
    return make_project(tmp_path / "project", f"faults{next(_ids)}", {"jobs": JOBS}, {"dev": env}, name="shop")


def dag_set(project, version: str, dags: int = DAGS) -> Manifest:
    """A build of ``dags`` DAG files of ``version`` (as `bigflow build dags` records them), written to build/."""
    folder = project.root / "build" / "dags" / f"dev-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for number in range(dags):
        path = folder / f"dag_{number:03}.py"
        path.write_text(f"# airflow DAG {number} of version {version}\n")
        artifacts.append(Artifact("dag", path.name, str(path.relative_to(project.root)),
                                  "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(),
                                  {"env": "dev", "version": version}))
    manifest = Manifest("shop", version, artifacts)
    manifest.write(project.root)
    return manifest


def files_of(project, manifest: Manifest) -> dict[str, bytes]:
    return {a.name: (project.root / a.path).read_bytes() for a in manifest.of_kind("dag")}


def names(bucket) -> set[str]:
    return {b.name for b in bucket.client.list_blobs(bucket.name)}


def fires_at(monkeypatch, method: str, should_fire, action) -> list[float]:
    """Run ``action()`` (once) right before the Bucket call ``method`` for which ``should_fire(name, n)`` holds
    (n: how many such calls came before); the times it fired."""
    real = getattr(Bucket, method)
    calls = count()
    fired: list[float] = []
    guard = threading.Lock()

    def wrapper(self, name, *args, **kwargs):
        with guard:
            if not fired and should_fire(name, next(calls) if name.endswith(".src") else -1):
                action()
                fired.append(time.monotonic())
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(Bucket, method, wrapper)
    return fired


def src(position: int):
    return lambda name, number: number == position - 1


@pytest.mark.parametrize(("method", "when", "sets", "fault"), [
    ("write", lambda name, n: name.endswith(LOCK), "old", "kill"),
    ("write", src(1), "old", "kill"),
    ("write", src(60), "old", "kill"),
    ("write", src(DAGS), "old", "kill"),
    ("write", lambda name, n: name.endswith(POINTER), "old", "kill"),
    ("delete", lambda name, n: ".bigflow/releases/" in name, "new", "kill"),
    ("write", src(60), "old", "pause"),
    ("write", lambda name, n: name.endswith(POINTER), "old new", "pause"),  # the switch may land late
], ids=["at-the-lock", "upload-1", "upload-60", "upload-200", "at-the-switch", "cleaning-up", "hung-at-upload-60",
        "hung-at-the-switch"])
def test_the_server_killed_at_any_point_leaves_one_complete_set(project, bucket, gcs_server, monkeypatch, method,
                                                                when, sets, fault):
    """Killed, or hung (SIGSTOP: connections accepted, nothing answered) and then resumed."""
    ComposerTarget().deploy(project, dag_set(project, "1.0.0", 10), environment("dev", project), {})
    ComposerTarget().deploy(project, dag_set(project, "2.0.0", DAGS - 10), environment("dev", project), {})  # a previous release to clean
    old = visible(bucket)
    new_manifest = dag_set(project, "3.0.0")
    new = files_of(project, new_manifest)
    assert len(old) == DAGS - 10 and len(new) == DAGS

    fired = fires_at(monkeypatch, method, when, gcs_server.kill if fault == "kill" else gcs_server.pause)
    with pytest.raises(BigflowError) as error:
        ComposerTarget().deploy(project, new_manifest, environment("dev", project), {})
    gave_up_after = time.monotonic() - fired[0]
    assert gave_up_after <= 2 * TIMEOUT, gave_up_after
    message = str(error.value)
    assert message.startswith(f"bucket gs://faults is unreachable at {gcs_server.url} while "), message
    assert "\n" not in message

    monkeypatch.undo()
    gcs_server.start() if fault == "kill" else gcs_server.resume()
    time.sleep(0.5)  # what the resumed server still had to apply
    assert visible(bucket) in [{"old": old, "new": new}[name] for name in sets.split()]  # one set, never a mix

    started = time.monotonic()
    ComposerTarget().deploy(project, new_manifest, environment("dev", project), {})  # at once: the lock left behind is a gone deploy's
    assert time.monotonic() - started < LEASE
    assert visible(bucket) == new
    releases = {n.split("/")[4] for n in names(bucket) if "/releases/" in n}
    assert len(releases) == 2  # the current and the previous release; leftovers of the killed deploy are gone
    assert f"dags/shop/{LOCK}" not in names(bucket)


def test_ctrl_c_at_upload_40_of_200_stops_uploading_before_the_lock_is_released(project, bucket, monkeypatch):
    ComposerTarget().deploy(project, dag_set(project, "1.0.0"), environment("dev", project), {})
    old = visible(bucket)
    events: list[tuple[str, float]] = []
    real_write, real_release = Bucket.write, Lease.release

    def write(self, name, *args, **kwargs):
        if name.endswith(".src"):
            events.append(("upload", time.monotonic()))
            if sum(kind == "upload" for kind, _ in events) == 40:
                os.kill(os.getpid(), signal.SIGINT)
        result = real_write(self, name, *args, **kwargs)
        events.append(("uploaded", time.monotonic()))
        return result

    def release(self):
        events.append(("release", time.monotonic()))
        return real_release(self)

    monkeypatch.setattr(Bucket, "write", write)
    monkeypatch.setattr(Lease, "release", release)
    with pytest.raises(BigflowError, match=r"^deploy to gs://faults/dags/shop/ stopped by SIGINT before the switch; "
                                           r"the bucket serves the DAGs it served before; the deploy lock is released$"):
        ComposerTarget().deploy(project, dag_set(project, "2.0.0"), environment("dev", project), {})
    released = [t for kind, t in events if kind == "release"]
    assert len(released) == 1
    assert all(t < released[0] for kind, t in events if kind != "release")  # nothing written after the release
    assert sum(kind == "upload" for kind, _ in events) < 40 + 8  # at most the uploads already running went on
    assert visible(bucket) == old
    assert f"dags/shop/{LOCK}" not in names(bucket)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_deploy_process_cancelled_mid_upload(project, bucket, gcs_server, signum):
    """CI cancels a job with SIGTERM: the deploy stops, releases its lock and says so in one line. SIGKILL cannot
    be caught: its lock stays, and the next deploy takes it over at once (its process is gone)."""
    ComposerTarget().deploy(project, dag_set(project, "1.0.0"), environment("dev", project), {})
    old = visible(bucket)
    new_manifest = dag_set(project, "2.0.0")
    command = [str(Path(sys.executable).with_name("bigflow")), "deploy", "composer", "--config", "dev"]
    deploy = subprocess.Popen(command, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = f"dags/shop/{LOCK}"
    deadline = time.monotonic() + 60
    while lock not in names(bucket) and deploy.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    gcs_server.pause()  # the uploads now hang in flight: the signal lands mid-upload for sure
    deploy.send_signal(signum)
    time.sleep(0.3)
    gcs_server.resume()
    out, err = deploy.communicate(timeout=4 * TIMEOUT)
    assert deploy.returncode == (130 if signum == signal.SIGTERM else -signal.SIGKILL)
    if signum == signal.SIGTERM:
        assert err.strip().splitlines()[-1] == ("Error: deploy to gs://faults/dags/shop/ stopped by SIGTERM before "
                                                "the switch; the bucket serves the DAGs it served before; the deploy "
                                                "lock is released"), err
        assert "Traceback" not in err
        assert lock not in names(bucket)
    else:
        assert lock in names(bucket)
    assert visible(bucket) == old
    started = time.monotonic()
    ComposerTarget().deploy(project, new_manifest, environment("dev", project), {})
    assert time.monotonic() - started < LEASE
    assert visible(bucket) == files_of(project, new_manifest)


def test_a_lock_write_the_hung_server_applies_late_is_undone(project, bucket, gcs_server, monkeypatch):
    manifest = dag_set(project, "1.0.0", 20)
    fired = fires_at(monkeypatch, "write", lambda name, n: name.endswith(LOCK), gcs_server.pause)
    with pytest.raises(BigflowError, match=rf"^bucket gs://faults is unreachable at {gcs_server.url} while locking "
                                           rf"the deploy: no answer within {TIMEOUT / 2:g} s$"):
        ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert time.monotonic() - fired[0] <= 2 * TIMEOUT
    monkeypatch.undo()
    gcs_server.resume()
    deadline = time.monotonic() + 5
    while f"dags/shop/{LOCK}" not in names(bucket) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"dags/shop/{LOCK}" in names(bucket)  # the server did write the lock after the deploy gave up
    started = time.monotonic()
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert time.monotonic() - started < LEASE
    assert visible(bucket) == files_of(project, manifest)
    assert f"dags/shop/{LOCK}" not in names(bucket)


def held_lock(bucket, **info) -> None:
    bucket.blob(f"dags/shop/{LOCK}").upload_from_string(json.dumps({
        "by": "ci@runner-7", "host": "runner-7", "pid": 4242, "version": "0.9.0", "started": "2026-01-05T10:00:00+00:00",
        "lease_sec": 600, **info}))


def test_break_lock_asks_then_removes_a_lock(project, bucket, monkeypatch):
    manifest = dag_set(project, "1.0.0", 5)
    held_lock(bucket)
    asked: list[str] = []
    monkeypatch.setattr("bigflow_airflow.composer._confirm_break", lambda what: asked.append(what) or False)
    with pytest.raises(BigflowError, match=r"^the deploy lock was left in place$"):
        ComposerTarget().deploy(project, manifest, environment("dev", project), {"break_lock": True})
    assert asked == ["ci@runner-7 (pid 4242), version 0.9.0, started 2026-01-05T10:00:00+00:00; lock "
                     f"gs://faults/dags/shop/{LOCK}"]
    assert f"dags/shop/{LOCK}" in names(bucket)

    monkeypatch.setattr("bigflow_airflow.composer._confirm_break", lambda what: True)
    done = ComposerTarget().deploy(project, manifest, environment("dev", project), {"break_lock": True})
    assert f"removed the deploy lock gs://faults/dags/shop/{LOCK}" in done.notes
    assert visible(bucket) == files_of(project, manifest)


def test_a_live_holder_makes_the_other_deploy_fail_naming_it(project, bucket, monkeypatch):
    """A lock whose holder renews it (here: rewritten every 0.2 s) is live: the other deploy fails, naming it."""
    manifest = dag_set(project, "1.0.0", 5)
    held_lock(bucket, lease_sec=5)
    stop = threading.Event()

    def renew():
        while not stop.wait(0.2):
            held_lock(bucket, lease_sec=5)

    renewer = threading.Thread(target=renew)
    renewer.start()
    try:
        started = time.monotonic()
        with pytest.raises(BigflowError, match=r"^another deploy of this project is running \(ci@runner-7 \(pid "
                                               r"4242\), version 0.9.0, .*; wait for it and deploy again"):
            ComposerTarget().deploy(project, manifest, environment("dev", project), {})
        assert time.monotonic() - started < 5  # judged live before its lease ran out
    finally:
        stop.set()
        renewer.join()
    assert visible(bucket) == {}
