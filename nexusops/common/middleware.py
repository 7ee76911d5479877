import logging
import time
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired
from django.db import DatabaseError
from django.urls import Resolver404, resolve
from django.utils import timezone

from . import logs, metrics
from .api import is_api, unexpected_error_json

# Probes and scrapes: their request lines log at DEBUG.
QUIET_PATHS = ("/healthz", "/readyz", "/metrics")


class LoginRequiredMiddleware(_DjangoLoginRequired):
    """Every page needs a login unless its view is marked ``@login_not_required``.

    The API is left to DRF (its views are marked login-not-required), which answers 401/403
    in JSON instead of redirecting.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserTimezoneMiddleware:
    """Render times in the signed-in user's zone; storage stays UTC.

    A person with no zone yet (blank) sees UTC; ``request.time_zone_chosen`` tells base.html
    to load static/js/timezone.js, which reports the browser's zone once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = ""
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                profile = getattr(user, "profile", None)
                tz_name = getattr(profile, "time_zone", "") or ""
        except DatabaseError:
            # The database is down: let the view meet the error, where the API answers it as
            # a JSON 503 with Retry-After, instead of an HTML 500 from here.
            tz_name = ""
        # base.html asks the browser for its zone only while the person has none.
        request.time_zone_chosen = bool(tz_name)
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class ApiErrorMiddleware:
    """An exception escaping an API view answers the JSON error shape, never the HTML 500 page
    (a client parses it; a monitoring script reads Retry-After). Errors raised before the view,
    in other middleware, reach ``nexusops.common.views.server_error`` instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        if not isinstance(exception, Exception):
            return None
        response = unexpected_error_json(exception)
        if response.status_code == 500:
            # Keep the traceback in the log, as Django's own handler would.
            logging.getLogger("django.request").error(
                "Internal Server Error: %s", request.path, exc_info=exception
            )
        return response


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` on every response that has none.

    Scripts come only from our own origin (htmx is served by django-htmx from static), so an
    injected ``<script>`` or ``onerror=`` attribute does not run even if escaping ever fails.
    Pages give behaviour through data-* attributes read by static/js/console.js instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{name} {' '.join(sources)}".strip()
            for name, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class RequestContextMiddleware:
    """First in the chain: gives the request its id (``X-Request-ID``, echoed in the response),
    opens its log context, counts it for ``/metrics`` by view and status, and logs one line.

    A view whose URL names an incident (``<number>``) puts the number in the context too.
    Probes and scrapes log at DEBUG: a load balancer asks every few seconds.
    """

    QUIET = QUIET_PATHS

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = logs.start(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response.headers["X-Request-ID"] = request_id
            request_record(
                method=request.method,
                path=request.path,
                view=_view_name(request),
                status=response.status_code,
                duration=time.perf_counter() - started,
            )
            return response
        finally:
            logs.end(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        number = view_kwargs.get("number")
        if isinstance(number, str):
            logs.bind(incident=number)
        return None


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Answered before URL resolution (the HTTPS redirect, a bad host): name the view the
        # path would have reached, so the counts stay by view.
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return metrics.UNMATCHED
    return match.view_name


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_request_log = logging.getLogger("nexusops.request")
# The metric children by label values: ``labels()`` validates and locks on every call.
_counters: dict[tuple[str, str, str], Any] = {}
_latencies: dict[tuple[str, str], Any] = {}


def request_record(*, method: str, path: str, view: str, status: int, duration: float) -> None:
    """Count an answered request for ``/metrics`` and log its line (``RequestContextMiddleware``
    for Django's requests; the alert webhooks' WSGI front, ``alerts/wsgi.py``, for its own)."""
    shown = method if method in _METHODS else "other"
    key = (view, shown, str(status))
    counter = _counters.get(key)
    if counter is None:
        counter = _counters.setdefault(key, metrics.HTTP_REQUESTS.labels(*key))
    counter.inc()
    latency = _latencies.get(key[:2])
    if latency is None:
        latency = _latencies.setdefault(key[:2], metrics.HTTP_LATENCY.labels(view, shown))
    latency.observe(duration)
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    if not _request_log.isEnabledFor(level):
        return
    _request_log.log(
        level,
        "%s %s %s %.0fms",
        method,
        path,
        status,
        duration * 1000,
        extra={
            "method": method,
            "path": path,
            "view": view,
            "status": status,
            "duration_ms": round(duration * 1000, 1),
        },
    )
