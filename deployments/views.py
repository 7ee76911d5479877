"""Deployment log, deployment page, calendar, DORA, maintenance windows, and the command page's
change panel. Thin: parse, call one service or selector, render; an ApplicationError becomes a
message (403 for permission) and changes nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident, Service
from nexusops.common import clock
from nexusops.common.errors import ApplicationError

from . import selectors, services
from .models import Deployment, Environment, Kind, MaintenanceWindow, Status
from .services.gates import gate_open


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role cannot see this.")


def _deployment(request: HttpRequest, pk: int) -> Deployment:
    _need(request, "deployments.view_deployment")
    return get_object_or_404(Deployment.objects.prefetch_related("services"), pk=pk)


def _do(request: HttpRequest, call, *, success: str, back: str):  # noqa: ANN001, ANN202
    try:
        result = call()
    except ApplicationError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
        return None, redirect(back)
    messages.success(request, success)
    return result, redirect(back)


def _incident(number: str) -> Incident | None:
    return Incident.objects.filter(number=(number or "").strip().upper()).first()


@require_GET
def deployment_list(request: HttpRequest) -> HttpResponse:
    _need(request, "deployments.view_deployment")
    qs, applied = selectors.deployments_filtered(request.GET)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "deployments/deployment_list.html",
        {
            "page": page,
            "applied": applied,
            "services": Service.objects.all(),
            "environments": Environment.choices,
            "kinds": Kind.choices,
            "statuses": Status.choices,
            "can_record": request.user.has_perm("deployments.record_deployment"),
        },
    )


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").replace("\n", ",").split(",") if v.strip()]


def deployment_new(request: HttpRequest) -> HttpResponse:
    _need(request, "deployments.record_deployment")
    error, data = None, request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            deployment = services.deployment_record(
                actor=request.user,
                services=request.POST.getlist("services"),
                version=data.get("version", ""),
                git_sha=data.get("git_sha", ""),
                environment=data.get("environment", "production"),
                kind=data.get("kind", "normal"),
                status=data.get("status", "pending"),
                registry=data.get("registry", ""),
                pr_url=data.get("pr_url", ""),
                labels=_split(data.get("labels", "")),
                reviewers=_split(data.get("reviewers", "")),
                is_migration=bool(data.get("is_migration")),
                incident=_incident(data.get("incident", "")),
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            error = exc
        else:
            messages.success(request, f"{deployment.number} recorded.")
            return redirect("deployment-detail", deployment.pk)
    return render(
        request,
        "deployments/deployment_new.html",
        {
            "error": error,
            "data": data,
            "services": Service.objects.all(),
            "environments": Environment.choices,
            "kinds": Kind.choices[:2],
        },
        status=error.status if error else 200,
    )


@require_GET
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = _deployment(request, pk)
    user = request.user
    return render(
        request,
        "deployments/deployment_detail.html",
        {
            "d": deployment,
            "checks": list(deployment.checks.all()),
            "open_gates": gate_open(deployment),
            "following": selectors.incidents_following(deployment),
            "rollbacks": list(deployment.rollbacks.all()),
            "plan": services.rollback_plan(deployment),
            "can_record": user.has_perm("deployments.record_deployment"),
            "can_override": user.has_perm("deployments.override_checklist"),
            "can_roll_back": user.has_perm("deployments.rollback_deployment"),
            "final": deployment.status in (Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK),
        },
    )


@require_POST
def deployment_check(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    d = _deployment(request, pk)
    _, response = _do(
        request,
        lambda: services.deployment_check_set(
            deployment=d,
            key=key,
            done=bool(request.POST.get("done")),
            actor=request.user,
            note=request.POST.get("note", ""),
        ),
        success="Checklist updated.",
        back=f"/deployments/{d.pk}/",
    )
    return response


@require_POST
def deployment_start(request: HttpRequest, pk: int) -> HttpResponse:
    d = _deployment(request, pk)
    _, response = _do(
        request,
        lambda: services.deployment_start(deployment=d, actor=request.user),
        success=f"{d.number} started.",
        back=f"/deployments/{d.pk}/",
    )
    return response


@require_POST
def deployment_finish(request: HttpRequest, pk: int) -> HttpResponse:
    d = _deployment(request, pk)
    status = request.POST.get("status", "")
    _, response = _do(
        request,
        lambda: services.deployment_finish(
            deployment=d,
            actor=request.user,
            status=status,
            override_reason=request.POST.get("override_reason", ""),
            migration_status_output=request.POST.get("migration_status_output") or None,
        ),
        success=f"{d.number} marked {status.replace('_', ' ')}.",
        back=f"/deployments/{d.pk}/",
    )
    return response


@require_POST
def deployment_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    """One click (with confirmation) from a deployment or the incident command page."""
    d = _deployment(request, pk)
    number = request.POST.get("incident", "")
    incident = _incident(number) if number else None
    if number and incident is None:
        raise Http404(f"No incident {number}.")
    back = f"/incidents/{incident.number}/" if incident else f"/deployments/{d.pk}/"
    rollback, response = _do(
        request,
        lambda: services.deployment_rollback_request(
            deployment=d,
            actor=request.user,
            incident=incident,
            reason=request.POST.get("reason", "") or "rolled back from NexusOps",
        ),
        success=f"Rollback of {d.number} requested: a second person approves it.",
        back=back,
    )
    if rollback is not None and rollback.remediation_run_id:
        return redirect("remediation-run-detail", rollback.remediation_run_id)
    return response


@require_POST
def deployment_backup(request: HttpRequest, pk: int) -> HttpResponse:
    d = _deployment(request, pk)
    _, response = _do(
        request,
        lambda: services.deployment_backup_request(deployment=d, actor=request.user),
        success="Pre-migration backup requested.",
        back=f"/deployments/{d.pk}/",
    )
    return response


@require_POST
def deployment_link(request: HttpRequest, pk: int) -> HttpResponse:
    d = _deployment(request, pk)
    incident = _incident(request.POST.get("incident", ""))
    if incident is None:
        messages.error(request, "No such incident.")
        return redirect("deployment-detail", d.pk)
    _, response = _do(
        request,
        lambda: services.deployment_incident_link(
            deployment=d,
            incident=incident,
            actor=request.user,
            reason=request.POST.get("reason", ""),
        ),
        success=f"Linked to {incident.number}.",
        back=f"/deployments/{d.pk}/",
    )
    return response


@require_GET
def incident_changes(request: HttpRequest, number: str) -> HttpResponse:
    """The command page's "Recent changes" partial (htmx, or included with its context)."""
    _need(request, "deployments.view_deployment")
    incident = _incident(number)
    if incident is None:
        raise Http404(f"No incident {number}.")
    context = selectors.incident_changes_context(incident=incident, user=request.user)
    return render(request, "deployments/_incident_changes.html", {"changes": context})


@require_GET
def deployment_calendar(request: HttpRequest) -> HttpResponse:
    _need(request, "deployments.view_deployment")
    today = clock.now().astimezone(dt.UTC).date()
    try:
        year, month = (int(x) for x in request.GET.get("month", "").split("-"))
        dt.date(year, month, 1)
    except (ValueError, TypeError):
        year, month = today.year, today.month
    return render(
        request, "deployments/calendar.html", selectors.calendar_context(year=year, month=month)
    )


@require_GET
def deployment_dora(request: HttpRequest) -> HttpResponse:
    _need(request, "deployments.view_deployment")
    service = request.GET.get("service", "").strip()
    return render(
        request,
        "deployments/dora.html",
        {
            "rows": selectors.dora(service=service),
            "service": service,
            "services": Service.objects.all(),
        },
    )


def _when(value: str) -> dt.datetime | None:
    moment = parse_datetime((value or "").strip())
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # windows are in UTC (runbook 7)
    return moment


def maintenance_list(request: HttpRequest) -> HttpResponse:
    _need(request, "deployments.view_maintenancewindow")
    error, data = None, request.POST if request.method == "POST" else {}
    if request.method == "POST":
        approver = get_user_model().objects.filter(pk=data.get("approver") or None).first()
        try:
            services.maintenance_emergency_create(
                actor=request.user,
                title=data.get("title", ""),
                starts_at=_when(data.get("starts_at", "")),
                ends_at=_when(data.get("ends_at", "")),
                services=request.POST.getlist("services"),
                approver=approver,
                approval_note=data.get("approval_note", ""),
                public_note=data.get("public_note", ""),
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            error = exc
        else:
            messages.success(
                request, "Emergency maintenance requested: it takes effect once approved."
            )
            return redirect("maintenance-list")
    from incidents.models import Profile

    return render(
        request,
        "deployments/maintenance_list.html",
        {
            "windows": selectors.upcoming_windows(limit=24),
            "error": error,
            "data": data,
            "services": Service.objects.all(),
            "approvers": get_user_model()
            .objects.filter(
                profile__org_role__in=[Profile.OrgRole.CTO, Profile.OrgRole.VP_ENGINEERING]
            )
            .exclude(pk=request.user.pk),  # nobody approves their own request
            "can_schedule": request.user.has_perm("deployments.schedule_maintenance"),
        },
        status=error.status if error else 200,
    )


@require_POST
def maintenance_work(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request, "deployments.view_maintenancewindow")
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    _, response = _do(
        request,
        lambda: services.maintenance_work_set(
            window=window, actor=request.user, open=bool(request.POST.get("open"))
        ),
        success="Window updated.",
        back="/maintenance/",
    )
    return response


@require_POST
def maintenance_approve(request: HttpRequest, pk: int) -> HttpResponse:
    # No role check here: the service lets only the window's named approver approve.
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    _, response = _do(
        request,
        lambda: services.maintenance_emergency_approve(
            window=window, actor=request.user, note=request.POST.get("note", "")
        ),
        success="Emergency maintenance approved.",
        back="/maintenance/",
    )
    return response


@require_POST
def maintenance_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request, "deployments.view_maintenancewindow")
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    _, response = _do(
        request,
        lambda: services.maintenance_cancel(window=window, actor=request.user),
        success="Window cancelled.",
        back="/maintenance/",
    )
    return response
