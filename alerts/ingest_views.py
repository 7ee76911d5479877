"""The webhook endpoints as Django views (the test client, runserver, a server that does not
go through ``alerts.wsgi``): the answer itself is ``intake.intake_answer``'s, which the WSGI
front (``alerts/wsgi.py``) serves too, so the two cannot drift apart.

No login and no CSRF (the integration token authenticates); plain Django views on purpose,
since this is the hot path. 2xx only after the events are committed; 503 when the database
cannot take them, so the sender retries.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .intake import CONTENT_TYPE, HARD_LIMIT, intake_answer
from .models import AlertSource

__all__ = ["HARD_LIMIT", "ingest_alertmanager", "ingest_datadog", "ingest_generic"]


def _ingest(request: HttpRequest, kind: str) -> HttpResponse:
    meta = request.META
    answer = intake_answer(
        kind,
        method=request.method or "",
        content_length=meta.get("CONTENT_LENGTH"),
        authorization=meta.get("HTTP_AUTHORIZATION", ""),
        content_type=meta.get("CONTENT_TYPE", ""),
        read=request.read,
    )
    response = HttpResponse(answer.body, status=answer.status, content_type=CONTENT_TYPE)
    for name, value in answer.headers:
        response[name] = value
    return response


def _endpoint(kind: str):
    def view(request: HttpRequest) -> HttpResponse:
        return _ingest(request, kind)

    view.__name__ = f"ingest_{kind}"
    return login_not_required(csrf_exempt(view))


ingest_alertmanager = _endpoint(AlertSource.Kind.ALERTMANAGER)
ingest_datadog = _endpoint(AlertSource.Kind.DATADOG)
ingest_generic = _endpoint(AlertSource.Kind.GENERIC)
