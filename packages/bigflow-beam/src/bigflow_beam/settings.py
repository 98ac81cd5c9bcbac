"""The configuration keys bigflow-beam reads, declared for core (``register_settings``); no Beam import."""

from __future__ import annotations

from bigflow.api import Setting

#: Beam option -> the configuration key that sets it for Dataflow; ``dataflow_<key>`` takes precedence over
#: ``<key>``, so settings shared with other plugins (project, region, network) can be overridden for Dataflow.
DATAFLOW_CONFIG_KEYS = {
    "project": "gcp_project_id",
    "region": "region",
    "temp_location": "temp_location",
    "staging_location": "staging_location",
    "service_account_email": "service_account",
    "network": "network",
    "subnetwork": "subnetwork",
    "machine_type": "machine_type",
    "max_num_workers": "max_workers",
    "sdk_container_image": "sdk_container_image",
}

_SHARED = ("gcp_project_id", "region")  # declared by core
SETTINGS = (
    *(Setting(name, int if key == "max_workers" else str, description=f"Dataflow's {option} (dataflow_{name} wins)")
      for option, key in DATAFLOW_CONFIG_KEYS.items() if key not in _SHARED for name in (key, f"dataflow_{key}")),
    *(Setting(f"dataflow_{key}", str, description=f"Dataflow's {key}, instead of {key}") for key in _SHARED),
    Setting("beam_runner", str, description="the Beam runner: 'local', 'DataflowRunner', ..."),
    Setting("beam_options", dict, description="pipeline options every Beam job gets"),
    Setting("dataflow_options", dict, description="pipeline options every Dataflow job gets"),
    Setting("dataflow_streaming_redeploy", str, "auto",
            description="how 'bigflow deploy' replaces running streaming jobs: auto, update or replace"),
    Setting("dataflow_drain_poll_sec", float, 10.0, description="poll interval while draining a streaming job"),
    Setting("dataflow_drain_timeout_sec", float, 1800.0, description="how long to wait for a drained job"),
)
