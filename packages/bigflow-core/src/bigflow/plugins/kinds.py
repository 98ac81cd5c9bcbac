"""The contribution kinds, declared once: discovery, the plugin host, ``plugins check`` and the docs read this table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of contribution: its ``bigflow.provides`` key, labels, hook and protocol in ``bigflow.api``."""

    key: str
    label: str  # singular, for messages: "job type"
    plural: str  # for tables: "job types"
    hook: str  # the contribution hook that collects it
    protocol: str  # the protocol in bigflow.api the registered object follows


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("job_type", "job type", "job types", "register_job_types", "JobType"),
        Kind("command", "command", "commands", "register_commands", "click.Command"),
        Kind("config_source", "config source", "config sources", "register_config_sources", "ConfigSource"),
        Kind("artifact_builder", "artifact builder", "artifact builders", "register_artifact_builders",
             "ArtifactBuilder"),
        Kind("deploy_target", "deploy target", "deploy targets", "register_deploy_targets", "DeployTarget"),
        Kind("starter", "starter", "starters", "register_starters", "Starter"),
    )
}
