"""What a webhook answers: authenticate, check size and type, parse, record, answer 202.

One function over the request's parts (method, a few headers, a way to read the body), so the
Django views (``ingest_views``) and the WSGI front (``alerts/wsgi.py``) give the same answer,
byte for byte. 2xx only after the events are committed; 503 with ``Retry-After`` when the
database cannot take them, so the sender retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils.http import parse_header_parameters

from nexusops.common import clock, metrics

from .services.ingest import alert_events_record, writer
from .services.parsers import PARSERS, PayloadError, decode
from .services.sources import AuthFailed, alert_source_authenticate

logger = logging.getLogger(__name__)
# Before the source is known (its own limit applies after authentication).
HARD_LIMIT = 10_485_760
CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # JSON, as ``JsonResponse`` would encode it
    headers: tuple[tuple[str, str], ...]  # after Content-Type, in this order


def _answer(status: int, payload: dict, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    body = json.dumps(payload).encode()
    # A length, so the server need not frame the answer in chunks.
    return Answer(status, body, (*headers, ("Content-Length", str(len(body)))))


def _error(status: int, code: str, message: str, headers: tuple = ()) -> Answer:
    return _answer(status, {"error": {"code": code, "message": message, "fields": {}}}, headers)


def intake_answer(
    kind: str,
    *,
    method: str,
    content_length: str | None,
    authorization: str,
    content_type: str,
    read: Callable[[int], bytes],
) -> Answer:
    """The answer to one webhook request for ``kind``. ``read(n)`` returns at most ``n``
    bytes of the body (never past its Content-Length)."""
    if method != "POST":
        return _error(405, "method_not_allowed", "Use POST.", (("Allow", "POST"),))
    writer.arrive()  # the group commit waits briefly for requests on their way
    try:
        return _post(kind, content_length, authorization, content_type, read)
    finally:
        writer.leave()


def _post(
    kind: str,
    content_length: str | None,
    authorization: str,
    content_type: str,
    read: Callable[[int], bytes],
) -> Answer:
    try:
        length = int(content_length or 0)
    except ValueError:
        return _error(400, "invalid", "Content-Length is not a number.")
    if length > HARD_LIMIT:
        return _error(413, "too_large", f"The body is over {HARD_LIMIT} bytes.")
    try:
        source = alert_source_authenticate(header=authorization, kind=kind)
    except AuthFailed as exc:
        return _error(
            exc.status,
            "not_authenticated" if exc.status == 401 else "permission_denied",
            exc.message,
            (("WWW-Authenticate", 'Bearer realm="nexusops-alerts"'),) if exc.status == 401 else (),
        )
    except DatabaseError as exc:
        return _unavailable(exc)
    if parse_header_parameters(content_type)[0] != CONTENT_TYPE:
        return _error(415, "unsupported_media_type", "Send Content-Type: application/json.")
    raw = read(source.max_body_bytes + 1)
    if len(raw) > source.max_body_bytes:
        return _error(413, "too_large", f"The body is over {source.max_body_bytes} bytes.")
    try:
        alerts = PARSERS[kind](decode(raw), clock.now())
    except PayloadError as exc:
        return _error(exc.status, "invalid", exc.message)
    try:
        count = alert_events_record(source=source, alerts=alerts)
    except DatabaseError as exc:
        return _unavailable(exc)
    metrics.ALERT_EVENTS_RECEIVED.labels(kind).inc(count)
    return _answer(202, {"status": "accepted", "alerts": count})


def _unavailable(exc: Exception) -> Answer:
    logger.error("alert ingest: database unavailable: %s: %s", type(exc).__name__, exc)
    return _error(
        503,
        "unavailable",
        "The alert was not recorded (database unavailable); retry.",
        (("Retry-After", "5"),),
    )
