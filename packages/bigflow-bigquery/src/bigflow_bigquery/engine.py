"""Official ``google-cloud-bigquery`` clients for an environment: Google BigQuery with ADC, or the emulator."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bigflow.api import BigflowError
from bigflow_bigquery.settings import EMULATOR, Settings

if TYPE_CHECKING:
    from google.cloud import bigquery

SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")
LOGIN_HINT = ("run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS to a "
              "service-account key file, or set bigquery_impersonate_service_account")

_clients: dict[tuple[str, str | None, str | None], bigquery.Client] = {}
_lock = threading.Lock()


def emulator_url(settings: Settings) -> str:
    """The URL of the environment's emulator; ``emulator`` starts (or reuses) the project's one."""
    if settings.endpoint != EMULATOR:
        return settings.endpoint
    from bigflow_bigquery.emulator import ProjectEmulator

    return ProjectEmulator(emulator_dir(settings)).url(port=settings.emulator_port)


def emulator_dir(settings: Settings) -> Path:
    """``bigquery_emulator_dir`` (relative to the project), else ``.bigflow/bigquery`` in the current project."""
    from bigflow.api import find_project

    project = find_project(Path.cwd())
    root = project.root if project else Path.cwd()
    return root / (settings.emulator_dir or Path(".bigflow") / "bigquery")


def client(settings: Settings, project_id: str | None = None) -> bigquery.Client:
    """A client running jobs in ``project_id`` (default: the environment's project), cached per process."""
    project_id = project_id or settings.default_project
    url = emulator_url(settings) if settings.uses_emulator else None
    key = (url or settings.endpoint, project_id, settings.impersonate_service_account)
    with _lock:
        cached = _clients.get(key)
        if cached is None:
            cached = _clients[key] = _emulator_client(settings, url, project_id) if url \
                else _production_client(settings, project_id)
    return cached


def _emulator_client(settings: Settings, url: str, project_id: str | None) -> bigquery.Client:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    from bigflow_bigquery.emulator import healthy

    if settings.endpoint != EMULATOR and not healthy(url, timeout=2.0):
        from bigflow_bigquery.rehearsal import own_emulator

        fix = f"start it: bigflow bigquery emulator start --config {settings.env}" if own_emulator(settings) else \
            "start it, or set bigquery_endpoint = \"emulator\" to let bigflow start one"
        raise BigflowError(f"no BigQuery emulator answers at {url} (bigquery_endpoint of environment "
                           f"{settings.env!r}): {fix}")
    return bigquery.Client(project=project_id, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=url))


def credentials(settings: Settings):
    """ADC credentials (impersonating ``bigquery_impersonate_service_account`` when set) and ADC's project."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        source, adc_project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as error:
        reason = str(error).splitlines()[0].rstrip(".")
        raise BigflowError(f"no Google credentials for BigQuery in environment {settings.env!r} ({reason}): "
                           f"{LOGIN_HINT}") from None
    if settings.impersonate_service_account:
        from google.auth import impersonated_credentials

        source = impersonated_credentials.Credentials(
            source_credentials=source, target_principal=settings.impersonate_service_account,
            target_scopes=list(SCOPES),
        )
    return source, adc_project


def _production_client(settings: Settings, project_id: str | None) -> bigquery.Client:
    from google.cloud import bigquery

    creds, adc_project = credentials(settings)
    project_id = project_id or adc_project
    if not project_id:
        raise BigflowError(f"no GCP project for BigQuery in environment {settings.env!r}: set gcp_project_id "
                           f"in [tool.bigflow.environments.{settings.env or 'ENV'}]")
    return bigquery.Client(project=project_id, credentials=creds, location=None)


def reset_clients() -> None:
    """Forget cached clients (tests that restart an emulator)."""
    with _lock:
        _clients.clear()
