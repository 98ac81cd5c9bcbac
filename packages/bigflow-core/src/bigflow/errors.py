"""Errors that the CLI reports as one line on stderr, with their exit codes."""

from __future__ import annotations


class BigflowError(Exception):
    """A problem caused by input or environment; the CLI prints ``Error: <message>`` and exits."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(BigflowError):
    """Bad command-line usage (exit code 2, like click)."""

    exit_code = 2


class PluginError(BigflowError):
    """A plugin is missing, broken, incompatible or conflicts with another one (exit code 3)."""

    exit_code = 3


class ConfigError(BigflowError, ValueError):
    """A configuration value is missing, unknown or of the wrong type (a ``ValueError``, as in BigFlow 1.x)."""
