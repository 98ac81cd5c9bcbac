"""Pipeline options of a BeamJob: from the environment's configuration, the job's own options and bigflow's.

Pure data (no Beam import), so the plugin stays light until a Beam job actually runs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from bigflow.api import Environment
from bigflow_beam.settings import DATAFLOW_CONFIG_KEYS

#: Option names of BigFlow 1.x jobs -> the Beam option they mean now (1.x's max_workers was silently ignored).
OPTION_ALIASES = {"max_workers": "max_num_workers", "worker_harness_container_image": "sdk_container_image"}

_LABEL_INVALID = re.compile(r"[^a-z0-9_-]+")
_NAME_INVALID = re.compile(r"[^a-z0-9-]+")


class PipelineOptionsDict(TypedDict, total=False):
    """Common Beam/Dataflow pipeline options (any other Beam option is accepted too)."""

    runner: str
    experiments: list[str]
    streaming: bool
    job_name: str
    labels: list[str] | dict[str, str]
    temp_location: str
    staging_location: str
    project: str
    region: str
    zone: str
    worker_region: str
    worker_zone: str
    autoscaling_algorithm: Literal["THROUGHPUT_BASED", "NONE"]
    machine_type: str
    num_workers: int
    max_num_workers: int
    network: str
    subnetwork: str
    use_public_ips: bool
    service_account_email: str
    worker_disk_type: str
    disk_size_gb: int
    flexrs_goal: str
    sdk_container_image: str
    dry_run: bool


def config_value(config: Mapping[str, Any], key: str) -> Any:
    """``dataflow_<key>`` if set, else ``<key>``, else None."""
    for name in (f"dataflow_{key}", key):
        value = config.get(name)
        if value not in (None, ""):
            return value
    return None


def config_mapping(config: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A table-valued configuration key (e.g. ``beam_options``, also JSON from a ``bf_`` variable) as a dict."""
    return Environment.of(config).table(key)


def dataflow_options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Dataflow options that the environment's configuration sets (see ``DATAFLOW_CONFIG_KEYS``)."""
    options = {option: config_value(config, key) for option, key in DATAFLOW_CONFIG_KEYS.items()}
    options = {k: v for k, v in options.items() if v is not None}
    if "max_num_workers" in options:
        key = "dataflow_max_workers" if config.get("dataflow_max_workers") not in (None, "") else "max_workers"
        options["max_num_workers"] = Environment.of(config).int(key)
    return {**options, **config_mapping(config, "dataflow_options")}


def normalized(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options with BigFlow 1.x names mapped to the Beam options they meant."""
    result = dict(options)
    for old, new in OPTION_ALIASES.items():
        if old in result:
            value = result.pop(old)
            result.setdefault(new, value)
    return result


def label_value(text: str) -> str:
    """A Dataflow label key or value: lowercase letters, digits, ``_`` and ``-``, at most 63 characters."""
    return _LABEL_INVALID.sub("-", str(text).lower()).strip("-")[:63]


def labels_dict(labels: Any) -> dict[str, str]:
    """Labels given as ``{"k": "v"}``, ``["k=v", ...]`` or ``"k=v,k2=v2"`` -> a dict."""
    if labels in (None, "", [], {}):
        return {}
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    if isinstance(labels, str):
        labels = labels.split(",")
    result: dict[str, str] = {}
    for label in labels:
        key, _, value = str(label).partition("=")
        if key.strip():
            result[key.strip()] = value.strip()
    return result


def labels_list(*sources: Any) -> list[str]:
    """Merge label sources (later ones win) into Beam's ``["key=value", ...]`` form, sanitized for Dataflow."""
    merged: dict[str, str] = {}
    for source in sources:
        merged.update({label_value(k): label_value(v) for k, v in labels_dict(source).items()})
    return [f"{k}={v}" for k, v in merged.items() if k]


def job_name(*parts: str | None, unique: bool = True) -> str:
    """A Dataflow job name from the given parts (lowercase, digits, ``-``), with a random suffix if unique."""
    words = [_NAME_INVALID.sub("-", p.lower()).strip("-") for p in parts if p]
    name = "-".join(w for w in words if w) or "bigflow"
    if not name[0].isalpha():
        name = f"bf-{name}"
    name = name[:100].rstrip("-")
    return f"{name}-{uuid.uuid4().hex[:8]}" if unique else name

