"""The command page's Deliveries panel (signed in): the htmx partial, its poll and Retry.

Its URLs stay under ``/status/deliveries/`` where the panel began; htmx gets the refreshed
partial, a plain request a page or a redirect back to the command page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from nexusops.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from nexusops.common.views import forbidden
from nexusops.engine.models import OutboxMessage

from ..selectors import incident_for_panel
from ..services.delivery import outbox_retry
from . import selectors


def _incident(number: str):  # noqa: ANN202 - an Incident
    try:
        return incident_for_panel(number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


@require_GET
def status_deliveries(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident(number)
    if not request.user.has_perm("incidents.view_internal"):
        return forbidden(request, "Your role cannot see deliveries.")
    if request.htmx and "v" in request.GET:
        # The command page polls every 2 s, like its live endpoint: 204 while nothing moved,
        # the panel when something did, 286 (htmx stops polling) once nothing more can move.
        poll = selectors.deliveries_poll(incident=incident)
        if not poll.live:
            context = {"status_deliveries": selectors.deliveries_context(incident=incident)}
            return render(request, "incidents/_deliveries.html", context, status=286)
        if request.GET["v"] == poll.version:
            return HttpResponse(status=204)
    context = {"status_deliveries": selectors.deliveries_context(incident=incident)}
    if request.htmx:
        return render(request, "incidents/_deliveries.html", context)
    return render(request, "incidents/deliveries.html", context)


@require_POST
def status_delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = OutboxMessage.objects.select_related("incident").filter(pk=pk).first()
    if message is None:
        raise Http404("No such delivery.")
    incident = message.incident
    error = notice = ""
    try:
        outbox_retry(message=message, actor=request.user)
    except PermissionDeniedError as exc:
        return forbidden(request, exc.message)
    except ApplicationError as exc:
        error = exc.message
    else:
        notice = "Retrying the delivery."
    if not request.htmx or incident is None:
        (messages.error if error else messages.success)(request, error or notice)
        if incident is None:
            return redirect(reverse("incident-list"))
        return redirect("incident-detail", incident.number)
    context = {
        "status_deliveries": selectors.deliveries_context(incident=incident),
        "notice": notice,
        "error": error,
    }
    return render(request, "incidents/_deliveries.html", context, status=409 if error else 200)
