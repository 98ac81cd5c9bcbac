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

from bigflow.api import BigflowError

EMULATOR = "emulator"
PRODUCTION = "bigquery"
LOCAL_ENV = "local"
EMULATOR_PROJECT = "local-project"
DEFAULT_LOCATION = "EU"
DEFAULT_PRICE_PER_TIB = 6.25


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
        env = env or config.get("env") or None
        endpoint = str(config.get("bigquery_endpoint") or (EMULATOR if env == LOCAL_ENV else PRODUCTION)).strip()
        if endpoint not in (EMULATOR, PRODUCTION) and not endpoint.startswith(("http://", "https://")):
            raise BigflowError(
                f"bigquery_endpoint {endpoint!r} of environment {env!r} is not valid: use 'emulator', "
                "'bigquery' or the URL of a running emulator (http://127.0.0.1:PORT)"
            )
        return cls(
            endpoint=endpoint.rstrip("/"),
            project_id=_text(config.get("gcp_project_id")),
            location=_text(config.get("bigquery_location")) or DEFAULT_LOCATION,
            impersonate_service_account=_text(config.get("bigquery_impersonate_service_account")),
            price_per_tib=_number(config, "bigquery_price_per_tib", DEFAULT_PRICE_PER_TIB),
            emulator_port=_port(config),
            emulator_dir=Path(config["bigquery_emulator_dir"]) if config.get("bigquery_emulator_dir") else None,
            env=env,
        )


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _number(config: Mapping[str, Any], key: str, default: float) -> float:
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number < 0:
        raise BigflowError(f"{key} must be a non-negative number (USD per TiB), got {value!r}")
    return number


def _port(config: Mapping[str, Any]) -> int | None:
    value = config.get("bigquery_emulator_port")
    if value is None or value == "":
        return None
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 < port < 65536:
        raise BigflowError(f"bigquery_emulator_port must be a port number (1-65535), got {value!r}")
    return port


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
