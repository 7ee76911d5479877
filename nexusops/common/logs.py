"""Structured logs: one JSON object a line in production, with the request and incident in play.

A *log context* (a ``contextvars`` dict) travels with the work: the web middleware opens one per
request (``request_id``, taken from ``X-Request-ID`` or made up), a view on an incident's URL and
``incident_declare`` add ``incident``, and a Celery task published from there carries both in
its message headers, so the worker's lines about that delivery name the same request and
incident. Every log record gets the context's fields (``ContextFilter``); ``JsonFormatter``
writes them with the record's own ``extra=`` fields.

To name one more thing in the lines of a piece of work::

    with logs.bound(incident=incident.number):
        ...
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

# The fields a context may hold, in the order a JSON line shows them.
CONTEXT_FIELDS = ("request_id", "incident", "task", "task_id")
HEADER = "nexusops_log_context"

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "nexusops_log_context", default=None
)
# A caller's request id is kept only if it is short and plain (it is echoed in a header).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def _get() -> dict[str, str]:
    return _context.get() or {}


def current() -> dict[str, str]:
    return dict(_get())


def new_request_id(offered: str | None = None) -> str:
    """The caller's ``X-Request-ID`` when it is usable, else a fresh one."""
    if offered and _REQUEST_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def start(**fields: str | None) -> contextvars.Token:
    """Open a fresh context (a request, a task); pass its token to :func:`end`."""
    return _context.set({k: str(v) for k, v in fields.items() if v})


def end(token: contextvars.Token) -> None:
    _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add fields to the current context, for the rest of this request or task."""
    _context.set({**_get(), **{k: str(v) for k, v in fields.items() if v}})


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    token = _context.set({**_get(), **{k: str(v) for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the log context onto every record (``record.request_id`` etc., "" when unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, context.get(name, ""))
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    *CONTEXT_FIELDS,
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context,
    the record's ``extra=`` fields and, on an exception, its traceback as ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, "") or _get().get(name, "")
            if value:
                line[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """Embedded mode's human line, with the request id and incident when there are any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _get()
        tags = [
            f"{name}={getattr(record, name, '') or context.get(name, '')}"
            for name in ("request_id", "incident")
            if getattr(record, name, "") or context.get(name)
        ]
        if not tags:
            return text
        first, _, rest = text.partition("\n")
        return f"{first} [{' '.join(tags)}]" + (f"\n{rest}" if rest else "")


# --- Celery: the context travels in the message headers ------------------------------------


def celery_before_publish(headers: dict | None = None, **_: Any) -> None:
    """``before_task_publish``: put the request id and incident in the message headers."""
    context = {k: v for k, v in _get().items() if k in ("request_id", "incident")}
    if headers is not None and context:
        headers[HEADER] = context


_task_tokens: dict[str, contextvars.Token] = {}


def celery_task_prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
    """``task_prerun``: a fresh context for the task, with what its publisher had."""
    request = getattr(task, "request", None)
    carried = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(
        HEADER
    )
    if not isinstance(carried, dict):
        carried = {}
    _task_tokens[task_id] = start(
        request_id=carried.get("request_id") or task_id,
        incident=carried.get("incident"),
        task=getattr(task, "name", ""),
        task_id=task_id,
    )


def celery_task_postrun(task_id: str = "", **_: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context (eager/threads)
            end(token)
