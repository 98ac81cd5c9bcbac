"""Logging for the ``bigflow.*`` logger tree: readable text locally, JSON for Cloud Logging in containers.

Every record carries the run's structured fields (``workflow_id``, ``job_id``, ``run_id``, ``runtime``, ``env``)
from :func:`bind`, including records of user code logging inside a job. In JSON each record is one line with
``severity``, ``message``, ``time``, ``logger`` and those fields, which Cloud Logging turns into
``jsonPayload`` fields (filter e.g. ``jsonPayload.workflow_id="my_workflow"``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIELDS = ("workflow_id", "job_id", "run_id", "runtime", "env")
FORMATS = ("auto", "text", "json")

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("bigflow_log_fields", default=None)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Attach structured fields to every record logged in this context (threads inherit a copy)."""
    token = _fields.set({**bound(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


def bound() -> dict[str, Any]:
    """The fields bound in the current context."""
    return dict(_fields.get() or {})


class _FieldsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_fields.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, in the shape Cloud Logging parses from container stdout."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                payload[key] = str(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL [workflow.job run] message``."""

    def format(self, record: logging.LogRecord) -> str:
        where = ".".join(str(getattr(record, k)) for k in ("workflow_id", "job_id") if getattr(record, k, None))
        run_id = getattr(record, "run_id", None)
        tag = f" [{where}{' ' + str(run_id) if run_id else ''}]" if where or run_id else ""
        text = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7}{tag} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def in_container() -> bool:
    """True inside a Docker container or a Kubernetes pod (where logs go to Cloud Logging)."""
    return Path("/.dockerenv").exists() or "KUBERNETES_SERVICE_HOST" in os.environ


def configure(log_format: str = "auto", level: int | str = logging.INFO) -> str:
    """Install one handler on the root logger (stderr); returns the format chosen ('text' or 'json').

    ``auto`` is JSON inside a container or pod when stderr is not a terminal, text otherwise.
    """
    if log_format not in FORMATS:
        from bigflow.errors import UsageError

        raise UsageError(f"unknown log format {log_format!r}; use one of {', '.join(FORMATS)}")
    if log_format == "auto":
        chosen = "json" if in_container() and not sys.stderr.isatty() else "text"
    else:
        chosen = log_format
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.addFilter(_FieldsFilter())
    from bigflow.configuration import SecretsFilter

    handler.addFilter(SecretsFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_bigflow", False)]:
        root.removeHandler(old)
    handler._bigflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return chosen
