"""The ``composer`` deploy target: the built DAG files into the Composer bucket, under ``dags/<project>/``.

``plan`` lists what would be added, changed and removed (and whether the image is in the registry) and
changes nothing. ``deploy`` checks the images, then, under the project's deploy lock (``deploy_lock``),
uploads the DAG files as a new release and switches Airflow to it with one write (``releases``).

Rollout rule for running DAG runs (BigFlow 1.x issue #95): DAG ids are stable, so a deploy replaces a
workflow's DAG in place and keeps its history; the first task of every run (``bigflow-image``) returns the
image named in the DAG file as parsed at that moment, and every job of the run takes its image from it. A run
therefore uses one image from start to end, even when a deploy lands in the middle; runs that start after the
deploy use the new image.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from bigflow.api import BigflowError, Environment, Manifest, Option, Plan, exit_codes
from bigflow_airflow.bucket import GOOGLE_ENDPOINT, Bucket, Interrupted
from bigflow_airflow.deploy_lock import Lease, break_lock
from bigflow_airflow.releases import LOCK, Changes, Releases, release_id

DEFAULT_LOCK_LEASE_SEC = 20


def built_dags(project: Any, manifest: Manifest, env: str) -> tuple[dict[str, bytes], list[str]]:
    """The DAG files of the last build (name -> bytes) and the images they run; checks they fit ``env``."""
    dags = manifest.of_kind("dag")
    if not dags:
        raise BigflowError(f"the build manifest has no DAG files; run 'bigflow build dags --config {env}' first")
    built_for = sorted({str(a.details.get("env")) for a in dags})
    if built_for != [env]:
        raise BigflowError(f"the DAG files in build/ were built for environment {', '.join(built_for)}, not "
                           f"{env!r}; run 'bigflow build dags --config {env}' first")
    if any(a.details.get("partial") for a in dags):
        raise BigflowError(f"the DAG files in build/ were built for one workflow only (--workflow); deploying them "
                           f"would remove the others: run 'bigflow build dags --config {env}' first")
    files = {}
    for artifact in dags:
        path = project.root / artifact.path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BigflowError(f"{artifact.path} is in the build manifest but missing; run 'bigflow build dags "
                               f"--config {env}' again") from None
        if "sha256:" + hashlib.sha256(data).hexdigest() != artifact.digest:
            raise BigflowError(f"{artifact.path} changed since it was built; run 'bigflow build dags --config "
                               f"{env}' again")
        files[artifact.name] = data
    images = sorted({a.details["image"] for a in dags if a.details.get("image")})
    return files, images


def bucket_name(values: Mapping[str, Any], env: str) -> str:
    value = values.get("dags_bucket")
    if not value:
        raise BigflowError(f"configuration key 'dags_bucket' of environment {env!r} is not set; add the Composer "
                           f"environment's bucket to [tool.bigflow.environments.{env}] in pyproject.toml")
    name = str(value).removeprefix("gs://").rstrip("/")
    if not name or "/" in name:
        raise BigflowError(f"dags_bucket of environment {env!r} must be a bucket name (e.g. 'europe-west1-env-"
                           f"1a2b3c-bucket'), got {value!r}; DAGs always go to dags/<project>/ in it")
    return name


def storage_client(values: Mapping[str, Any]) -> Any:
    """A google-cloud-storage client: ``storage_endpoint`` (an emulator, anonymous) or Google with ADC."""
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    endpoint = values.get("storage_endpoint")
    project = values.get("gcp_project_id")
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=project or "bigflow", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": str(endpoint)})
    try:
        return storage.Client(project=project)
    except DefaultCredentialsError:
        raise BigflowError("no Google credentials to reach the DAG bucket: run 'gcloud auth application-default "
                           "login' or set GOOGLE_APPLICATION_CREDENTIALS") from None


def _number(values: Mapping[str, Any], key: str, default: float, env: str, *, zero: bool = False) -> float:
    number = Environment.of(values, env).float(key, default)  # the type check names key and environment
    if number is None or number < 0 or (number == 0 and not zero):
        raise BigflowError(f"configuration key {key!r} of environment {env!r} must be a number of seconds "
                           f"{'>= 0' if zero else '> 0'}, got {number!r}")
    return number


def _plan(target: str, releases: Releases, changes: Changes, notes: list[str]) -> Plan:
    return Plan(target, add=[releases.uri(n) for n in changes.add], change=[releases.uri(n) for n in changes.change],
                remove=[releases.uri(n) for n in changes.remove],
                unchanged=[releases.uri(n) for n in changes.unchanged], notes=notes)


@contextlib.contextmanager
def stopped_by_signals(bucket: Bucket) -> Iterator[None]:
    """SIGINT and SIGTERM set ``bucket.stop``: no storage call starts after them, the running ones finish, and
    the deploy unwinds (releasing its lock last) instead of dying between two writes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        bucket.stopped_by = signal.Signals(signum).name
        bucket.stop.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _confirm_break(description: str) -> bool:
    import click

    try:
        return click.confirm(f"Remove the deploy lock of {description}? A deploy still running would then "
                             "interleave with this one", default=False, err=True)
    except click.Abort:
        return False


class ComposerTarget:
    """Deploy target ``composer``; config keys ``dags_bucket`` (required), ``storage_endpoint``,
    ``gcp_project_id``, ``storage_timeout_sec``, ``deploy_lock_lease_sec`` and ``deploy_lock_timeout_sec``;
    option ``--break-lock``."""

    name = "composer"
    options = (Option("break-lock", flag=True,
                      help="remove the deploy lock another deploy left (asks for confirmation) before deploying."),)

    def _prepare(self, project: Any, manifest: Manifest, env: str) -> tuple[Releases, dict[str, bytes], list[str],
                                                                             Mapping[str, Any]]:
        from bigflow_airflow.builder import resolve_environment

        files, images = built_dags(project, manifest, env)
        env, values = resolve_environment(project, env)
        name = bucket_name(values, env)
        timeout = _number(values, "storage_timeout_sec", 60, env)
        bucket = Bucket(storage_client(values), name, timeout=timeout,
                        endpoint=str(values.get("storage_endpoint") or GOOGLE_ENDPOINT))
        return Releases(bucket, f"dags/{project.name}/"), files, images, values

    def plan(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """What a deploy would change in the bucket; deploys nothing."""
        from bigflow_airflow.registry import image_digest

        releases, files, images, _ = self._prepare(project, manifest, env.name)
        deployed = releases.deployed()
        notes = []
        for image in images:
            try:
                digest = image_digest(image)
                notes.append(f"image {image}: " + (f"in the registry ({digest})" if digest else
                                                   "NOT in the registry — push it before deploying"))
            except BigflowError as error:
                notes.append(f"image {image}: cannot check: {error}")
        return _plan(self.name, releases, releases.changes(deployed, files), notes)

    def deploy(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """Check the images, then upload the DAG files as a release and switch to it, under the project's lock."""
        from bigflow_airflow.registry import require_image

        env = env.name
        releases, files, images, values = self._prepare(project, manifest, env)
        bucket = releases.bucket
        notes = [f"image {image}: {require_image(image)}" for image in images]
        lease_sec = _number(values, "deploy_lock_lease_sec", DEFAULT_LOCK_LEASE_SEC, env)
        wait_sec = _number(values, "deploy_lock_timeout_sec", 0, env, zero=True)
        release, switched = release_id(files), False
        with stopped_by_signals(bucket):
            try:
                if options.get("break_lock") and break_lock(bucket, releases.prefix + LOCK, _confirm_break):
                    notes.append(f"removed the deploy lock {releases.uri(LOCK)}")
                lease = Lease(bucket, releases.prefix + LOCK, lease_sec, {"version": manifest.version}).acquire(wait_sec)
                try:
                    deployed = releases.deployed()
                    changes = releases.changes(deployed, files)
                    previous = deployed.release
                    releases.upload(deployed, release, files, lease.check)
                    lease.check()
                    releases.switch(deployed, release, manifest.version, files)
                    switched = True
                    releases.clean(deployed, lease.check)
                finally:
                    lease.release()
            except Interrupted:
                where = (f"after the switch to release {release}; the next deploy removes what is left" if switched
                         else "before the switch; the bucket serves the DAGs it served before")
                raise BigflowError(f"deploy to {releases.uri()} stopped by {bucket.stopped_by or 'a failure'} "
                                   f"{where}; the deploy lock is released", exit_code=exit_codes.INTERRUPTED) from None
        notes.append(f"release {release} (version {manifest.version}) is current" +
                     (f"; it replaced release {previous}" if previous and previous != release else ""))
        return _plan(self.name, releases, changes, notes)
