"""The incident pages: list, declare and the command page (its writes are ``write_views``).

Views are thin: parse (``forms``), call one service or selector, render. Rules, permission
checks included, are the services'; an ``ApplicationError`` becomes a message (a redirect
back for a plain request, an inline error with its 4xx status for an htmx request). htmx
writes answer with the refreshed sections of the command page as out-of-band swaps, the same
bundle the live endpoint sends when someone else changed the incident.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from nexusops.common import keyset
from nexusops.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from nexusops.common.views import forbidden
from nexusops.engine.events import ask

from . import forms, selectors, services
from .events import CommandPagePanels
from .models import Incident, Service, Severity, Status

PAGE_SIZE = 50
LIVE_SECTIONS = ("header", "glance", "steps", "timers", "timeline", "live")


def service_list(request):
    return render(
        request,
        "incidents/service_list.html",
        {
            "services": Service.objects.all(),
            "severities": Severity.objects.all(),
        },
    )


# ---- list ------------------------------------------------------------------------------


@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    """Newer/Older pages by cursor (the same cost at any depth) and a count bounded at
    ``selectors.COUNT_LIMIT`` ("1–50 of 1,000+")."""
    form = forms.IncidentFilterForm(request.GET)
    filters = form.selector_kwargs()
    stale_link = False
    try:
        page = selectors.incident_page(
            cursor=request.GET.get("cursor") or None, size=PAGE_SIZE, **filters
        )
    except keyset.InvalidCursor:
        stale_link = True  # an edited or old link: start again rather than fail
        page = selectors.incident_page(cursor=None, size=PAGE_SIZE, **filters)
    for incident in page.rows:
        incident.sla_words = _sla_words(incident)
    query = request.GET.copy()
    for name in ("cursor", "page"):
        query.pop(name, None)
    context = {
        "form": form,
        "page": page,
        "pager": _pager(page, query),
        "stale_link": stale_link,
        "severities": Severity.objects.all(),
        "services": Service.objects.all(),
        "commanders": _commanders(),
        "can_declare": request.user.has_perm("incidents.declare_incident"),
    }
    template = "incidents/incident_list.html"
    return render(request, f"{template}#results" if request.htmx else template, context)


def _pager(page: selectors.IncidentPage, query: QueryDict) -> dict:
    """The pager's links and its honest summary: "51–100 of 237", or "of 1,000+" when the
    count stopped at its bound."""

    def link(cursor: str | None) -> str:
        params = query.copy()
        if cursor:
            params["cursor"] = cursor
        return f"?{params.urlencode()}"

    shown = len(page.rows)
    total = f"{page.count:,}" + ("" if page.count_exact else "+")
    return {
        "first": page.start + 1 if shown else 0,
        "last": page.start + shown,
        "total": total,
        "noun": "incident" if page.count_exact and page.count == 1 else "incidents",
        # "Newer" is the first page already from the second one.
        "newest": link(None) if page.previous and page.start >= 2 * PAGE_SIZE else None,
        "newer": link(page.previous) if page.previous else None,
        "older": link(page.next) if page.next else None,
    }


# ---- declare ---------------------------------------------------------------------------


def incident_declare(request: HttpRequest) -> HttpResponse:
    template = "incidents/incident_declare.html"
    if not request.user.has_perm("incidents.declare_incident"):
        # Showing a form the service would refuse helps nobody; the service still checks.
        return forbidden(request, "Your role cannot declare incidents.")
    form = forms.DeclareForm(request.POST or None, initial={"severity": "P1"})
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                incident = services.incident_declare(actor=request.user, **form.cleaned_data)
            except PermissionDeniedError as exc:
                return forbidden(request, exc.message)
            except ApplicationError as exc:
                errors, status = exc.fields or {"general": [exc.message]}, exc.status
                errors.setdefault("general", [exc.message])
            else:
                url = reverse("incident-detail", args=[incident.number])
                messages.success(request, f"Declared {incident.number}.")
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        else:
            errors, status = forms.errors_of(form), 400
            errors["general"] = ["Check the highlighted fields."]
    context = {
        "form": form,
        "errors": errors,
        "severities": Severity.objects.all(),
        "services": Service.objects.all(),
        "selected_services": form["services"].value() or [],
    }
    return render(
        request, f"{template}#declare-form" if request.htmx else template, context, status=status
    )


# ---- the command page ------------------------------------------------------------------


@require_GET
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    from .deliveries import selectors as deliveries
    from .deliveries.integrations import integrations_off

    incident = _get(number)
    context = selectors.incident_command_context(
        incident=incident, user=request.user, query=request.GET
    )
    # Higher apps' panels rendered inline (on-call's escalations, the status page's publish
    # form); they refresh themselves afterwards.
    for panel in ask(
        CommandPagePanels(
            incident=incident,
            user=request.user,
            internal=context["internal"],
            drive=context["perms"]["drive_incident"],
        )
    ):
        context.update(panel)
    if context["internal"]:
        context["integrations_off"] = integrations_off()
        context["status_deliveries"] = deliveries.deliveries_context(incident=incident)
    return render(request, "incidents/incident_detail.html", context)


@require_GET
def incident_timeline(request: HttpRequest, number: str) -> HttpResponse:
    """The timeline alone (kind filter, older events) for htmx; the whole page otherwise."""
    incident = _get(number)
    context = selectors.incident_command_context(
        incident=incident, user=request.user, query=request.GET
    )
    template = "incidents/incident_detail.html"
    return render(request, f"{template}#timeline" if request.htmx else template, context)


@require_GET
def incident_live(request: HttpRequest, number: str) -> HttpResponse:
    """Polled every 2 s: 204 when nothing changed, the changed sections otherwise, 286 once closed.

    The check is one indexed single-row read; the page is only rebuilt when the version or
    the last timeline event moved.
    """
    row = (
        Incident.objects.filter(number=number.upper())
        .values_list("version", "last_event_id", "status")
        .first()
    )
    if row is None:
        raise Http404(f"No incident {number}.")
    version, last_event, status = row
    done = 286 if status == Status.CLOSED else None
    if request.GET.get("v") == str(version) and request.GET.get("e") == str(last_event):
        return HttpResponse(status=done or 204)
    incident = _get(number)
    context = selectors.incident_command_context(
        incident=incident, user=request.user, query=request.GET, sections=LIVE_SECTIONS
    )
    return render(request, "incidents/incident_detail.html#oob", context, status=done or 200)


# ---- helpers -----------------------------------------------------------------------------


def _get(number: str) -> Incident:
    try:
        return selectors.incident_get(number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


# The list view's names for what the command page's selectors also use.
_sla_words = selectors.sla_words
_commanders = selectors.commanders
