"""Errors that the CLI reports as one line on stderr, with their exit codes (``bigflow.exit_codes``)."""

from __future__ import annotations

from bigflow import exit_codes


class BigflowError(Exception):
    """A problem caused by input or environment; the CLI prints ``Error: <message>`` and exits."""

    exit_code = exit_codes.FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(BigflowError):
    """Bad command-line usage or an unknown name (exit code 2, like click)."""

    exit_code = exit_codes.USAGE


class PluginError(BigflowError):
    """A plugin is missing, broken, incompatible or conflicts with another one (exit code 3)."""

    exit_code = exit_codes.PLUGIN


class RefusedError(BigflowError):
    """A deploy refused: a protected environment without confirmation, a held lock (exit code 4)."""

    exit_code = exit_codes.REFUSED


class InvalidValueError(BigflowError, ValueError):
    """A value given by the user is malformed or out of range (a ``ValueError``, which BigFlow 1.x raised)."""


class ConfigError(InvalidValueError):
    """A configuration value is missing, unknown or of the wrong type."""


class UnknownNameError(UsageError, ConfigError):
    """An unknown workflow, job, environment, builder, ... (exit code 2; a ``ValueError``, as in BigFlow 1.x)."""


class InvalidWorkflowError(BigflowError):
    """A workflow definition that cannot run or be deployed (cycle, bad id, bad schedule, ...)."""
