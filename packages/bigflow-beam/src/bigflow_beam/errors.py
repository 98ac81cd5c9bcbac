"""Errors of Beam jobs; each is reported as one line by the CLI."""

from __future__ import annotations

from bigflow.api import BigflowError


class BeamJobError(BigflowError, ValueError):
    """A BeamJob that cannot run as defined (a ValueError, as in BigFlow 1.x)."""


class PipelineFailed(BigflowError):
    """The pipeline (or building it) raised; the message names the user's frame."""


class PipelineTimeout(BigflowError, TimeoutError):
    """The pipeline did not finish within the job's execution timeout and was cancelled."""
