import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views import defaults

from .api import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    error_json,
    is_api,
    unexpected_error_json,
)


def home(request):
    # The console opens on the incident list: that is what someone signing in came for.
    return redirect("incident-list")


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """403 with the reason: a page, or for htmx the message alone, swapped into the page's
    messages (``forbidden.html#notice``). The one answer of every page a role may not use."""
    template = "forbidden.html"
    return render(
        request,
        f"{template}#notice" if getattr(request, "htmx", False) else template,
        {"message": message},
        status=403,
    )


# Django's error handlers, with one change: under /api/ they answer the API's JSON error shape,
# so a client never has to parse an HTML page (DESIGN rule 10).


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_json("bad_request", "The request could not be understood.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_json("permission_denied", "You may not do this.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_json("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` block, so the exception is still current.
    exc = sys.exception()
    if is_api(request):
        return unexpected_error_json(exc)
    if database_unavailable(exc):
        # The database is down, or a statement passed its limit behind a lock (the web
        # server's --statement-timeout): nothing was changed, and a retry may work. Rendered
        # without the request's context, whose processors would ask the database again.
        body = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        return HttpResponse(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return defaults.server_error(request)
