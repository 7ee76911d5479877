"""The webhook endpoints: authenticate, check size and type, parse, record, answer 202.

No login and no CSRF (the integration token authenticates); plain Django views on purpose,
since this is the hot path. 2xx only after the events are committed; 503 when the database
cannot take them, so the sender retries.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from nexusops.common import clock, metrics

from .models import AlertSource
from .services.ingest import alert_events_record
from .services.parsers import PARSERS, PayloadError, decode
from .services.sources import AuthFailed, alert_source_authenticate

logger = logging.getLogger(__name__)
# Before the source is known (its own limit applies after authentication).
HARD_LIMIT = 10_485_760


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "fields": {}}}
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _ingest(request: HttpRequest, kind: str) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.", {"Allow": "POST"})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "invalid", "Content-Length is not a number.")
    if length > HARD_LIMIT:
        return _error(413, "too_large", f"The body is over {HARD_LIMIT} bytes.")
    try:
        source = alert_source_authenticate(
            header=request.META.get("HTTP_AUTHORIZATION", ""), kind=kind
        )
    except AuthFailed as exc:
        return _error(
            exc.status,
            "not_authenticated" if exc.status == 401 else "permission_denied",
            exc.message,
            {"WWW-Authenticate": 'Bearer realm="nexusops-alerts"'} if exc.status == 401 else None,
        )
    except DatabaseError as exc:
        return _unavailable(exc)
    content_type = request.content_type or ""
    if content_type != "application/json":
        return _error(415, "unsupported_media_type", "Send Content-Type: application/json.")
    raw = request.read(source.max_body_bytes + 1)
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
    return JsonResponse({"status": "accepted", "alerts": count}, status=202)


def _unavailable(exc: Exception) -> JsonResponse:
    logger.error("alert ingest: database unavailable: %s: %s", type(exc).__name__, exc)
    return _error(
        503,
        "unavailable",
        "The alert was not recorded (database unavailable); retry.",
        {"Retry-After": "5"},
    )


def _endpoint(kind: str):
    def view(request: HttpRequest) -> JsonResponse:
        return _ingest(request, kind)

    view.__name__ = f"ingest_{kind}"
    return login_not_required(csrf_exempt(view))


ingest_alertmanager = _endpoint(AlertSource.Kind.ALERTMANAGER)
ingest_datadog = _endpoint(AlertSource.Kind.DATADOG)
ingest_generic = _endpoint(AlertSource.Kind.GENERIC)
