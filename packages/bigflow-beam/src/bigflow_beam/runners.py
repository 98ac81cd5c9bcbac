"""Choosing a Beam runner by name, and building it.

``local`` is Beam's DirectRunner without its first step: DirectRunner tries to download and start the Prism
runner from GitHub, which fails offline or hangs where DNS hangs. ``local`` runs batch pipelines on the
in-process FnApiRunner and streaming ones (TestStream, Pub/Sub) on the BundleBasedDirectRunner.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from bigflow.api import BigflowError

LOCAL = "local"
DATAFLOW = "DataflowRunner"

#: Canonical runner names bigflow accepts; ``DirectRunner`` means ``local``.
RUNNERS = (LOCAL, "FnApiRunner", "BundleBasedDirectRunner", DATAFLOW, "PrismRunner", "PortableRunner",
           "FlinkRunner", "SparkRunner")
_ALIASES = {"direct": LOCAL, "directrunner": LOCAL, "switchingdirectrunner": LOCAL, "dataflow": DATAFLOW}
_BY_KEY = {name.lower(): name for name in RUNNERS}


def canonical_runner(name: str) -> str:
    """The canonical name of a runner (case-insensitive, ``Runner`` suffix optional); a one-line error if unknown."""
    key = str(name).strip().lower()
    for candidate in (key, f"{key}runner"):
        if candidate in _ALIASES:
            return _ALIASES[candidate]
        if candidate in _BY_KEY:
            return _BY_KEY[candidate]
    choices = [*RUNNERS, "DirectRunner"]
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.4)
    close = close or difflib.get_close_matches(key, [c.lower() for c in choices], n=1, cutoff=0.4)
    hint = f"did you mean {_BY_KEY.get(close[0].lower(), close[0])!r}?" if close else f"known: {', '.join(RUNNERS)}"
    raise BigflowError(f"unknown Beam runner {name!r}; {hint}")


def choose_runner(config: Mapping[str, Any], env: str | None, options: Mapping[str, Any], job: str) -> str:
    """The runner of a job: ``beam_runner`` from the configuration, else the job's ``runner`` option, else
    ``local`` in the ``local`` environment and DataflowRunner elsewhere when a GCP project is configured."""
    for name, source in ((config.get("beam_runner"), f"beam_runner of environment {env!r}"),
                         (options.get("runner"), "runner in pipeline_options")):
        if name:
            try:
                return canonical_runner(name)
            except BigflowError as error:
                raise BigflowError(f"{job}: {source}: {error}") from None
    if env in (None, "", LOCAL):
        return LOCAL
    from bigflow_beam.options import config_value

    gcp = options.get("project") or config_value(config, "gcp_project_id") or config_value(config, "temp_location")
    return DATAFLOW if gcp else LOCAL


def make_runner(name: str) -> Any:
    """A runner instance for a canonical runner name."""
    if name == LOCAL:
        from bigflow_beam.local_runner import LocalRunner

        return LocalRunner()
    from apache_beam.runners.runner import create_runner

    return create_runner(name)
