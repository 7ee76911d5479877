"""The webhook endpoints skip the site's middleware and URL resolution.

A webhook needs none of it: no session, no CSRF (the token authenticates, in the view), no
user, no messages, no htmx, no time zone, no sign-in lockout, no frame or CSP headers on a JSON
answer. Placed right after ``SecurityMiddleware`` (which keeps the HTTPS redirect and HSTS in
production), this hands a request for one of the three webhook paths straight to its view;
every other request goes on down the chain as before. That is most of a webhook's CPU outside
the database: the full chain and the resolver (which tries every pattern before the alerts
app's) cost more than the view itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from . import ingest_views

INGEST_VIEWS = {
    "alerts-ingest-alertmanager": ingest_views.ingest_alertmanager,
    "alerts-ingest-datadog": ingest_views.ingest_datadog,
    "alerts-ingest-generic": ingest_views.ingest_generic,
}


class IntakeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._views: dict[str, Callable] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._views is None:
            # Resolved once, from the URLconf, so the paths are never written twice.
            self._views = {reverse(name): view for name, view in INGEST_VIEWS.items()}
        view = self._views.get(request.path)
        if view is None:
            return self.get_response(request)
        # A zone a signed-in person's page activated on this thread must not leak in here.
        timezone.deactivate()
        return view(request)
