"""What Beam workers see of bigflow: the ``bigflow_*`` pipeline options and the environment they name.

Beam imports every ``BeamPlugin`` subclass on each Dataflow worker at start-up (DataflowRunner lists them in
``beam_plugins``). Importing this module there exports the job's environment as ``bf_env``, before user
modules are unpickled, so configuration resolved at import time picks the same environment as the driver.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.value_provider import RuntimeValueProvider
from apache_beam.utils.plugin import BeamPlugin

logger = logging.getLogger(__name__)

#: The environment variable bigflow's configuration reads the environment name from.
ENV_VARIABLE = "bf_env"


class BigflowOptions(PipelineOptions):
    """The ``bigflow_*`` options BeamJob sets on every pipeline."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument("--bigflow_env", "--bigflow-env", help="bigflow environment of the run")
        parser.add_argument("--bigflow_workflow", "--bigflow-workflow", help="bigflow workflow id")
        parser.add_argument("--bigflow_jobid", "--bigflow-jobid", help="bigflow job id")
        parser.add_argument("--bigflow_runtime", help="logical time of the run (YYYY-MM-DD HH:MM:SS)")
        parser.add_argument("--bigflow_run_id", help="bigflow run id")


def get_pipeline_options() -> dict[str, Any] | None:
    """The current pipeline's options as a dict, on the driver or on a worker (None when there are none)."""
    if RuntimeValueProvider.runtime_options:  # a portable SDK worker (Dataflow) set them at start-up
        return dict(RuntimeValueProvider.runtime_options)
    raw = os.environ.get("PIPELINE_OPTIONS")
    if raw:
        try:
            return dict(json.loads(raw)["options"])
        except (ValueError, KeyError, TypeError):
            logger.warning("PIPELINE_OPTIONS is not the JSON Beam workers expect; ignored")
    options = FileSystems._pipeline_options  # set by every runner, local ones included
    if options is None:
        return None
    return options.get_all_options() if isinstance(options, PipelineOptions) else dict(options)


def current_env() -> str | None:
    """The bigflow environment of the running pipeline (``bf_env``, else the ``bigflow_env`` option)."""
    return os.environ.get(ENV_VARIABLE) or (get_pipeline_options() or {}).get("bigflow_env") or None


class BigflowWorkerEnvironment(BeamPlugin):
    """Marker that makes Dataflow import this module on its workers (see the module docstring)."""


def _export_env_on_worker() -> None:
    options = RuntimeValueProvider.runtime_options  # non-empty only inside an SDK worker
    env = (options or {}).get("bigflow_env")
    if env and ENV_VARIABLE not in os.environ:
        os.environ[ENV_VARIABLE] = str(env)
        logger.info("bigflow environment on this worker: %s", env)


_export_env_on_worker()
