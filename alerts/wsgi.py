"""The alert webhooks answered in front of Django's request handler (``nexusops/wsgi.py``).

A webhook needs none of Django's request machinery: no ``HttpRequest``, no URL resolution, no
middleware chain, no request signals. Building and tearing those down cost more CPU than
authenticating, parsing and answering the alert (issue 15), so the served application answers
the three webhook paths here and hands every other request to Django unchanged.

The answer is the Django view's own (``intake.intake_answer``) with what the middleware the
webhooks pass through in Django adds (``alerts/middleware.py``): the request id, the metrics
and the log line of ``RequestContextMiddleware``, and ``SecurityMiddleware``'s headers. What
this does not do itself goes to Django, where the same view answers it:

* a request ``SecurityMiddleware`` would redirect to HTTPS, and a site under a script prefix;
* an exception (the 500 answer, its log and ``got_request_exception``).

The request thread's own database connection (used only when the integration is not cached)
is closed when broken or too old after each request, as Django's ``request_finished`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http.client import responses

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, connection
from django.urls import get_script_prefix, reverse

from nexusops.common import logs
from nexusops.common.middleware import request_record

from .intake import CONTENT_TYPE, intake_answer
from .middleware import INGEST_URLS

StartResponse = Callable[..., object]
WsgiApp = Callable[[dict, StartResponse], Iterable[bytes]]


class IntakeFront:
    """A WSGI application: the webhooks answered here, everything else by ``app``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._routes: dict[str, tuple[str, str]] | None = None

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        route = self._route(environ)
        if route is None:
            return self.app(environ, start_response)
        return self._answer(environ, start_response, *route)

    def _route(self, environ: dict) -> tuple[str, str] | None:
        """(kind, view name) when this front answers the request, else None."""
        if self._routes is None:
            self._routes = _routes()
        route = self._routes.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("SCRIPT_NAME") or settings.FORCE_SCRIPT_NAME:
            return None
        if settings.SECURE_SSL_REDIRECT and not _secure(environ):
            return None  # Django's SecurityMiddleware redirects it
        return route

    def _answer(
        self, environ: dict, start_response: StartResponse, kind: str, view: str
    ) -> Iterable[bytes]:
        request_id = logs.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        token = logs.start(request_id=request_id)
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "").upper()
        try:
            # No time zone to reset (IntakeMiddleware's deactivate()): the answer and the rows
            # use UTC only, whatever zone a page left active on this thread.
            try:
                answer = intake_answer(
                    kind,
                    method=method,
                    content_length=environ.get("CONTENT_LENGTH"),
                    authorization=environ.get("HTTP_AUTHORIZATION", ""),
                    content_type=environ.get("CONTENT_TYPE", ""),
                    read=_reader(environ),
                )
                status = answer.status
                headers = [("Content-Type", CONTENT_TYPE), *answer.headers]
                body = answer.body
            except Exception as exc:  # noqa: BLE001 - answered as Django answers any view's
                status, headers, body = _django_error(environ, exc)
            headers += _security_headers(_secure(environ))
            headers.append(("X-Request-ID", request_id))
            request_record(
                method=method,
                path=environ.get("PATH_INFO", ""),
                view=view,
                status=status,
                duration=time.perf_counter() - started,
            )
            start_response(f"{status} {responses.get(status, 'Unknown Status Code')}", headers)
            return [body]
        finally:
            logs.end(token)
            # What request_finished does for Django's requests (only if this thread has a
            # connection; never inside a transaction, which only a test holds across requests).
            if connection.connection is not None and not connection.in_atomic_block:
                close_old_connections()


def _routes() -> dict[str, tuple[str, str]]:
    """The webhook paths, from the URLconf (never written twice), relative to the prefix."""
    prefix = get_script_prefix()
    return {
        "/" + reverse(name)[len(prefix) :]: (name.removeprefix("alerts-ingest-"), name)
        for name in INGEST_URLS
    }


def _secure(environ: dict) -> bool:
    """``HttpRequest.is_secure()``: the proxy's header when one is configured, else the
    scheme the server saw."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        header, secure_value = proxy
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _reader(environ: dict) -> Callable[[int], bytes]:
    """Read at most ``n`` bytes, never past Content-Length (Django's ``LimitedStream``)."""

    def read(n: int) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return b""
        return environ["wsgi.input"].read(min(n, length))

    return read


def _security_headers(secure: bool) -> list[tuple[str, str]]:
    """What ``SecurityMiddleware.process_response`` adds to a JSON answer, in its order."""
    out = []
    if settings.SECURE_HSTS_SECONDS and secure:
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        out.append(("Strict-Transport-Security", sts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        out.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        values = [v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy
        out.append(("Referrer-Policy", ",".join(values)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        out.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return out


def _django_error(environ: dict, exc: Exception) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer Django gives when a view raises (its 500 page or JSON, logged)."""
    request = WSGIRequest(environ)
    response = response_for_exception(request, exc)
    headers = [
        *response.items(),
        *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
    ]
    return response.status_code, headers, response.content
