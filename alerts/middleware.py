"""The webhook endpoints skip the site's middleware and URL resolution.

A webhook needs none of it: no session, no CSRF (the token authenticates, in the view), no
user, no messages, no htmx, no time zone, no sign-in lockout, no frame or CSP headers on a JSON
answer. Placed right after ``RequestContextMiddleware`` (request id, log line, metrics) and
``SecurityMiddleware`` (the HTTPS redirect and HSTS in production), this hands a request for
one of the three webhook paths straight to its view;
every other request goes on down the chain as before. That is most of a webhook's CPU outside
the database: the full chain and the resolver (which tries every pattern before the alerts
app's) cost more than the view itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, get_script_prefix, resolve, reverse
from django.utils import timezone

INGEST_URLS = ("alerts-ingest-alertmanager", "alerts-ingest-datadog", "alerts-ingest-generic")


class IntakeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._matches: dict[str, ResolverMatch] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._matches is None:
            # Resolved once, from the URLconf, so the paths are never written twice.
            prefix = get_script_prefix()
            self._matches = {
                (path := reverse(name)): resolve("/" + path[len(prefix) :]) for name in INGEST_URLS
            }
        match = self._matches.get(request.path)
        if match is None:
            return self.get_response(request)
        # What resolution would have set: the request's metrics and logs name the view.
        request.resolver_match = match
        # A zone a signed-in person's page activated on this thread must not leak in here.
        timezone.deactivate()
        return match.func(request, *match.args, **match.kwargs)
