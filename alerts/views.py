"""Alert pages: groups, alerts, one group, ack and silence, and the incident page's panel."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.common.views import forbidden

from . import selectors, services
from .models import AlertGroup

PAGE_SIZE = 50
VIEW_PERM = "alerts.view_alertgroup"


def _forbidden(request: HttpRequest) -> HttpResponse:
    return forbidden(request, "Your role cannot see alerts.")


def _page(request: HttpRequest, queryset):  # noqa: ANN001 - any queryset
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def alert_group_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERM):
        return _forbidden(request)
    status = request.GET.get("status", "")
    page = _page(request, selectors.alert_group_list(status=status))
    context = {
        "page": page,
        "status": status,
        "now": clock.now(),
        "failures": selectors.alert_processing_failures(),
        "can_retry": request.user.has_perm("alerts.acknowledge_alertgroup"),
    }
    return render(request, "alerts/group_list.html", context)


@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERM):
        return _forbidden(request)
    status = request.GET.get("status", "")
    page = _page(request, selectors.alert_list(status=status))
    return render(request, "alerts/alert_list.html", {"page": page, "status": status})


@require_GET
def alert_group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERM):
        return _forbidden(request)
    group = get_object_or_404(
        AlertGroup.objects.select_related("incident", "service", "rule", "silenced_by"), pk=pk
    )
    context = {
        "group": group,
        "alerts": group.alerts.select_related("source").order_by("-last_seen")[:200],
        "now": clock.now(),
        "can_ack": request.user.has_perm("alerts.acknowledge_alertgroup"),
        "can_silence": request.user.has_perm("alerts.silence_alertgroup"),
    }
    return render(request, "alerts/group_detail.html", context)


def _act(request: HttpRequest, pk: int, call, done: str) -> HttpResponse:  # noqa: ANN001
    group = get_object_or_404(AlertGroup, pk=pk)
    try:
        call(group)
    except ApplicationError as exc:
        if exc.status == 403:
            return forbidden(request, exc.message)
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("alert-group-detail", pk=group.pk)


@require_POST
def alert_group_ack(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda g: services.alert_group_acknowledge(group=g, actor=request.user),
        "Acknowledged.",
    )


@require_POST
def alert_group_silence(request: HttpRequest, pk: int) -> HttpResponse:
    raw = request.POST.get("minutes", "")
    minutes = int(raw) if raw.strip().isdigit() else None
    return _act(
        request,
        pk,
        lambda g: services.alert_group_silence(
            group=g, actor=request.user, minutes=minutes, reason=request.POST.get("reason", "")
        ),
        "Silence updated.",
    )


@require_POST
def alert_processing_retry(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.alert_processing_retry(failure=pk, actor=request.user)
    except ApplicationError as exc:
        if exc.status == 403:
            return forbidden(request, exc.message)
        messages.error(request, exc.message)
    else:
        messages.success(request, "Processing this group again.")
    return redirect("alert-group-list")


@require_GET
def alert_incident_groups(request: HttpRequest, number: str) -> HttpResponse:
    """htmx partial for the incident command page: its alert groups with live counts."""
    if not request.user.has_perm(VIEW_PERM):
        return _forbidden(request)
    groups = selectors.alert_groups_of_incident(number=number)[:50]
    return render(request, "alerts/_incident_groups.html", {"groups": groups, "number": number})
