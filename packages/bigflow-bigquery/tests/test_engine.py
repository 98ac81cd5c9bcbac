"""Production engine settings: ADC, impersonation, missing credentials; the keys read from an environment."""

from __future__ import annotations

import json

import pytest

from bigflow.errors import BigflowError
from bigflow_bigquery import engine
from bigflow_bigquery.settings import Settings


@pytest.fixture
def no_adc(tmp_path, monkeypatch):
    """A machine without Application Default Credentials (no gcloud login, no key file, not on GCE)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    engine.reset_clients()
    yield
    engine.reset_clients()


@pytest.fixture
def gcp_project(tmp_path, write_project):
    return write_project({"name": "gcp"}, "gcp", {"local": {}, "prod": {"gcp_project_id": "my-prod"}},
                         root=tmp_path / "project")


LOGIN = "run 'gcloud auth application-default login'"


def test_missing_credentials_are_one_line_naming_gcloud_login(no_adc, gcp_project, bigflow_cli):
    result = bigflow_cli("bigquery", "query", "--config", "prod", "SELECT 1")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no Google credentials for BigQuery in environment 'prod'")
    assert LOGIN in lines[0] and "bigquery_impersonate_service_account" in lines[0]


def test_missing_credentials_fail_a_job_before_any_write(no_adc, gcp_project):
    from datetime import datetime

    from bigflow.workflow import JobContext
    from bigflow_bigquery import DatasetConfig

    job = DatasetConfig(None, None, "sales").create_dataset_manager().write_truncate(
        "daily", "SELECT 1 AS n").to_job(id="daily")
    context = JobContext.make(runtime=datetime(2024, 1, 1), env="prod", config={"gcp_project_id": "my-prod"})
    with pytest.raises(BigflowError, match=LOGIN):
        job.execute(context)


def test_a_bad_key_file_is_named(no_adc, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(BigflowError, match=r"missing\.json was not found.*" + LOGIN):
        engine.client(Settings.from_config({"gcp_project_id": "p"}, "prod"))


def service_account_key(path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "key-project", "private_key_id": "1", "private_key": pem,
        "client_email": "runner@key-project.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token"}))


def test_adc_with_impersonation_builds_the_client_without_network(no_adc, tmp_path, monkeypatch):
    from google.auth import impersonated_credentials

    key = tmp_path / "key.json"
    service_account_key(key)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    settings = Settings.from_config({"bigquery_impersonate_service_account": "etl@prod.iam.gserviceaccount.com"},
                                    "prod")
    client = engine.client(settings)
    assert client.project == "key-project"  # ADC's project when gcp_project_id is not set
    assert isinstance(client._credentials, impersonated_credentials.Credentials)
    assert client._credentials.service_account_email == "etl@prod.iam.gserviceaccount.com"
    assert engine.client(Settings.from_config({"gcp_project_id": "my-prod"}, "prod")).project == "my-prod"


def test_settings_keys_and_defaults():
    local = Settings.from_config({}, "local")
    assert (local.endpoint, local.default_project, local.location, local.price_per_tib) == (
        "emulator", "local-project", "EU", 6.25)
    prod = Settings.from_config({"bigquery_location": "europe-west1", "bigquery_price_per_tib": "5",
                                 "bigquery_emulator_port": 19050}, "prod")
    assert (prod.endpoint, prod.default_project, prod.location, prod.price_per_tib, prod.emulator_port) == (
        "bigquery", None, "europe-west1", 5.0, 19050)
    with pytest.raises(BigflowError, match="bigquery_endpoint 'emulatr' of environment 'dev' is not valid"):
        Settings.from_config({"bigquery_endpoint": "emulatr"}, "dev")
    with pytest.raises(BigflowError, match="'bigquery_price_per_tib' of environment 'dev' must be a number, got 'cheap'"):
        Settings.from_config({"bigquery_price_per_tib": "cheap"}, "dev")
    with pytest.raises(BigflowError, match="bigquery_price_per_tib must be a non-negative number"):
        Settings.from_config({"bigquery_price_per_tib": -1}, "dev")
    with pytest.raises(BigflowError, match="bigquery_emulator_port must be a port number"):
        Settings.from_config({"bigquery_emulator_port": 70000}, "dev")
