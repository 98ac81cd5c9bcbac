"""Kubernetes pod names derived from job ids.

The rules for workflow, job and DAG ids, secrets and tags live in ``bigflow.ids``.
"""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def pod_name(job_id: str) -> str:
    """A Kubernetes pod name (DNS label, at most 63 characters) derived from a job id."""
    if len(job_id) <= 50 and _DNS_LABEL.match(job_id):
        return job_id
    name = _NOT_DNS.sub("-", job_id.lower()).strip("-")[:50].strip("-")
    return name or "bigflow-job"
