"""The configuration keys the plugin reads from an environment (``context.config`` at run time).

=========================================  ===================================================================
key                                        meaning
=========================================  ===================================================================
``bigquery_endpoint``                      ``emulator`` (start bqemulator on 127.0.0.1 for the project),
                                           ``http://HOST:PORT`` (an emulator already running there), or
                                           ``bigquery`` (Google BigQuery). Default: ``emulator`` in the
                                           ``local`` environment, ``bigquery`` elsewhere.
``gcp_project_id``                         project the client runs jobs in (and of datasets configured
                                           without one). Default on the emulator: ``local-project``.
``bigquery_location``                      location of datasets the plugin creates (default ``EU``, as 1.x).
``bigquery_impersonate_service_account``   service account to impersonate with the ADC credentials.
``bigquery_price_per_tib``                 on-demand price in USD per TiB, for dry-run cost estimates
                                           (default 6.25).
``bigquery_emulator_port``                 REST port of an emulator the plugin starts (default: a free one).
``bigquery_emulator_dir``                  where that emulator keeps its data (default ``.bigflow/bigquery``
                                           in the project).
=========================================  ===================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bigflow.api import BigflowError, Environment, Setting

EMULATOR = "emulator"
PRODUCTION = "bigquery"
LOCAL_ENV = "local"
EMULATOR_PROJECT = "local-project"
DEFAULT_LOCATION = "EU"
DEFAULT_PRICE_PER_TIB = 6.25

#: none is required: the endpoint defaults by environment name, the project to the credentials' own
SETTINGS = (
    Setting("bigquery_endpoint", str, description="'emulator', 'bigquery' or the URL of a running emulator "
                                                  "(default: 'emulator' in local, 'bigquery' elsewhere)"),
    Setting("bigquery_location", str, DEFAULT_LOCATION, description="location of datasets the plugin creates"),
    Setting("bigquery_impersonate_service_account", str,
            description="service account to impersonate with the ADC credentials"),
    Setting("bigquery_price_per_tib", float, DEFAULT_PRICE_PER_TIB,
            description="on-demand price in USD per TiB, for dry-run cost estimates"),
    Setting("bigquery_emulator_port", int, description="REST port of an emulator the plugin starts"),
    Setting("bigquery_emulator_dir", str, description="where that emulator keeps its data"),
)


@dataclass(frozen=True)
class Settings:
    """Where and how to reach BigQuery in one environment."""

    endpoint: str = PRODUCTION           # 'bigquery', 'emulator' or an http(s) URL
    project_id: str | None = None
    location: str = DEFAULT_LOCATION
    impersonate_service_account: str | None = None
    price_per_tib: float = DEFAULT_PRICE_PER_TIB
    emulator_port: int | None = None
    emulator_dir: Path | None = None
    env: str | None = None

    @property
    def uses_emulator(self) -> bool:
        return self.endpoint != PRODUCTION

    @property
    def default_project(self) -> str | None:
        return self.project_id or (EMULATOR_PROJECT if self.uses_emulator else None)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], env: str | None = None) -> Settings:
        """Read the plugin's keys (see the module docstring) from an environment's configuration."""
        values = Environment.of(config, env)
        env = env or values.get("env") or None
        endpoint = (values.str("bigquery_endpoint") or (EMULATOR if env == LOCAL_ENV else PRODUCTION)).strip()
        if endpoint not in (EMULATOR, PRODUCTION) and not endpoint.startswith(("http://", "https://")):
            raise BigflowError(
                f"bigquery_endpoint {endpoint!r} of environment {env!r} is not valid: use 'emulator', "
                "'bigquery' or the URL of a running emulator (http://127.0.0.1:PORT)"
            )
        price = values.float("bigquery_price_per_tib", DEFAULT_PRICE_PER_TIB)
        if price is None or price < 0:
            raise BigflowError(f"bigquery_price_per_tib must be a non-negative number (USD per TiB), got {price!r}")
        port = values.int("bigquery_emulator_port")
        if port is not None and not 0 < port < 65536:
            raise BigflowError(f"bigquery_emulator_port must be a port number (1-65535), got {port!r}")
        directory = values.str("bigquery_emulator_dir")
        return cls(
            endpoint=endpoint.rstrip("/"),
            project_id=_text(values.str("gcp_project_id")),
            location=_text(values.str("bigquery_location")) or DEFAULT_LOCATION,
            impersonate_service_account=_text(values.str("bigquery_impersonate_service_account")),
            price_per_tib=price,
            emulator_port=port,
            emulator_dir=Path(directory) if directory else None,
            env=env,
        )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def current_settings(env: str | None = None) -> Settings:
    """Settings for code running outside a job (``.run()`` in a notebook, ``bigflow bigquery query``).

    The environment is ``env``, else ``bf_env``; its configuration comes from the current project when there
    is one (``bigflow.api.environment``), else from nothing (Google BigQuery with ADC).
    """
    from bigflow.api import find_project

    env = env or os.environ.get("bf_env") or None
    project = find_project(Path.cwd())
    if project is None:
        return Settings.from_config({}, env)
    from bigflow.api import environment

    resolved = environment(env, project)
    return Settings.from_config(resolved, resolved.name)
