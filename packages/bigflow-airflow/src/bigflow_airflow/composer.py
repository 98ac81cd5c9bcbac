"""The ``composer`` deploy target: the built DAG files into the Composer bucket, under ``dags/<project>/``.

``plan`` lists what would be added, changed and removed (and whether the image is in the registry) and
changes nothing. ``deploy`` checks the image first, then syncs under a lock (see ``bigflow_airflow.bucket``).

Rollout rule for running DAG runs (BigFlow 1.x issue #95): DAG ids are stable, so a deploy replaces a
workflow's DAG in place and keeps its history; the first task of every run (``bigflow-image``) returns the
image named in the DAG file as parsed at that moment, and every job of the run takes its image from it. A run
therefore uses one image from start to end, even when a deploy lands in the middle; runs that start after the
deploy use the new image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bigflow.api import BigflowError, Environment, Manifest, Plan
from bigflow_airflow.bucket import BucketSync, SyncPlan

DEFAULT_LOCK_TIMEOUT_SEC = 900


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


def _number(values: Mapping[str, Any], key: str, default: float, env: str) -> float:
    value = values.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1
    if number <= 0:
        raise BigflowError(f"configuration key {key!r} of environment {env!r} must be a number of seconds > 0, "
                           f"got {value!r}")
    return number


def _plan(target: str, sync: BucketSync, changes: SyncPlan, notes: list[str]) -> Plan:
    return Plan(target, add=[sync.uri(n) for n in changes.add], change=[sync.uri(n) for n in changes.change],
                remove=[sync.uri(n) for n in changes.remove], unchanged=[sync.uri(n) for n in changes.unchanged],
                notes=notes)


class ComposerTarget:
    """Deploy target ``composer``; config keys ``dags_bucket`` (required), ``storage_endpoint``,
    ``gcp_project_id``, ``storage_timeout_sec`` and ``deploy_lock_timeout_sec``."""

    name = "composer"

    def _prepare(self, project: Any, manifest: Manifest, env: str) -> tuple[BucketSync, dict[str, bytes], list[str],
                                                                             Mapping[str, Any]]:
        from bigflow_airflow.builder import resolve_environment

        files, images = built_dags(project, manifest, env)
        env, values = resolve_environment(project, env)
        name = bucket_name(values, env)
        timeout = _number(values, "storage_timeout_sec", 60, env)
        sync = BucketSync(storage_client(values), name, f"dags/{project.name}/", timeout=timeout)
        return sync, files, images, values

    options = ()

    def plan(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """What a deploy would change in the bucket; deploys nothing."""
        from bigflow_airflow.registry import image_digest

        sync, files, images, _ = self._prepare(project, manifest, env.name)
        sync.list()
        notes = []
        for image in images:
            try:
                digest = image_digest(image)
                notes.append(f"image {image}: " + (f"in the registry ({digest})" if digest else
                                                   "NOT in the registry — push it before deploying"))
            except BigflowError as error:
                notes.append(f"image {image}: cannot check: {error}")
        return _plan(self.name, sync, sync.plan(files), notes)

    def deploy(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        """Check the images, then upload changed DAG files and remove stale ones, under the project's lock."""
        from bigflow_airflow.registry import require_image

        env = env.name
        sync, files, images, values = self._prepare(project, manifest, env)
        notes = [f"image {image}: {require_image(image)}" for image in images]
        lock_timeout = _number(values, "deploy_lock_timeout_sec", DEFAULT_LOCK_TIMEOUT_SEC, env)
        generation = sync.acquire(manifest.version, lock_timeout)
        try:
            sync.list()
            changes = sync.plan(files)
            sync.apply(changes, files)
        finally:
            sync.release(generation)
        return _plan(self.name, sync, changes, notes)
