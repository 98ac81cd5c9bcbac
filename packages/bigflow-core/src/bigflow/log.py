"""Logging for the ``bigflow.*`` logger tree: readable text locally, JSON for Cloud Logging in pods.

``--log-format auto`` (the default) writes text on a terminal. When stderr is not a terminal it writes JSON if
``BIGFLOW_LOG_FORMAT=json`` or inside a Kubernetes pod (``KUBERNETES_SERVICE_HOST`` is set, as in Composer's
pods), text otherwise (``BIGFLOW_LOG_FORMAT=text`` forces text in a pod); a ``/.dockerenv`` file alone
(devcontainers, Codespaces) does not make logs JSON. Text has coloured levels on a terminal unless ``NO_COLOR``
is set.

Secret values are masked in every record, in messages and exception texts: SecretStr values (``configuration``)
and the ``mask`` given to :func:`configure` (``bigflow run`` gives the resolved environment's).

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

FIELDS = ("workflow_id", "job_id", "run_id", "runtime", "env")
FORMATS = ("auto", "text", "json")
FORMAT_VARIABLE = "BIGFLOW_LOG_FORMAT"
_COLORS = {"DEBUG": "2", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}
_masks: list[Callable[[str], str]] = []  # the mask given to configure(), if any

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


def mask(text: str) -> str:
    """``text`` with secret values masked by the ``mask`` given to :func:`configure`."""
    for function in _masks:
        text = function(text)
    return text


class _MaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _masks:
            return True
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or ""


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
        if record.exc_info or record.exc_text:
            payload["exception"] = _exception_text(self, record)
        return json.dumps(payload, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL [workflow.job run] message``; ``color`` colours the level (ANSI)."""

    def __init__(self, color: bool = False) -> None:
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        where = ".".join(str(getattr(record, k)) for k in ("workflow_id", "job_id") if getattr(record, k, None))
        run_id = getattr(record, "run_id", None)
        tag = f" [{where}{' ' + str(run_id) if run_id else ''}]" if where or run_id else ""
        level = f"{record.levelname:<7}"
        code = _COLORS.get(record.levelname) if self.color else None
        if code:
            level = f"\033[{code}m{level}\033[0m"
        text = f"{self.formatTime(record, '%H:%M:%S')} {level}{tag} {record.getMessage()}"
        if record.exc_info or record.exc_text:
            text += "\n" + _exception_text(self, record)
        return text


def in_pod() -> bool:
    """True inside a Kubernetes pod (Composer's jobs), where stdout/stderr lines go to Cloud Logging."""
    return "KUBERNETES_SERVICE_HOST" in os.environ


def choose_format(log_format: str, stream: TextIO) -> str:
    """'text' or 'json' for ``--log-format`` (see the module docstring for ``auto``)."""
    from bigflow.errors import UsageError

    if log_format not in FORMATS:
        raise UsageError(f"unknown log format {log_format!r}; use one of {', '.join(FORMATS)}")
    if log_format != "auto":
        return log_format
    if stream.isatty():
        return "text"
    wanted = os.environ.get(FORMAT_VARIABLE, "").strip().lower()
    if wanted not in ("", *FORMATS):
        raise UsageError(f"{FORMAT_VARIABLE}={wanted!r} is not a log format; use one of {', '.join(FORMATS)}")
    if wanted in ("json", "text"):
        return wanted
    return "json" if in_pod() else "text"


def wants_color(stream: TextIO) -> bool:
    """Colours on a terminal, unless ``NO_COLOR`` is set (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def configure(log_format: str = "auto", level: int | str = logging.INFO,
              mask: Callable[[str], str] | None = None) -> str:
    """Install one handler on the root logger (stderr); returns the format chosen ('text' or 'json').

    ``mask`` (e.g. an Environment's ``mask``) replaces secret values in every message and exception text.
    """
    chosen = choose_format(log_format, sys.stderr)
    _masks[:] = [mask] if mask is not None else []
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter(wants_color(sys.stderr)))
    handler.addFilter(_FieldsFilter())
    from bigflow.configuration import SecretsFilter

    handler.addFilter(SecretsFilter())
    handler.addFilter(_MaskFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_bigflow", False)]:
        root.removeHandler(old)
    handler._bigflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return chosen
