"""On-call pages: who is on call, the calendar, overrides, escalate-now and the pay report."""

from __future__ import annotations

import csv
import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, PermissionDeniedError

from . import escalation_services, forms, pay, schedule, services
from .models import Rotation, RotationOverride


def _tz(request: HttpRequest) -> str:
    profile = getattr(request.user, "profile", None)
    return getattr(profile, "time_zone", "") or "UTC"


@require_GET
def oncall_home(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    rotations = list(Rotation.objects.filter(active=True).prefetch_related("members__user"))
    current = [
        {
            "rotation": r,
            "user": schedule.on_call_at(r, now),
            "next_handoff": schedule.handoff_at(r, schedule.shift_index(r, now) + 1),
        }
        for r in rotations
    ]
    mine = schedule.user_shifts(request.user, now, now + dt.timedelta(weeks=12))
    pending = list(
        RotationOverride.objects.filter(state=RotationOverride.State.REQUESTED, ends_at__gt=now)
        .select_related("rotation", "user", "requested_by", "replaces")
        .order_by("starts_at")
    )
    decided = list(
        RotationOverride.objects.filter(decided_at__isnull=False)
        .select_related("rotation", "user", "requested_by", "decided_by")
        .order_by("-decided_at")[:10]
    )
    return render(
        request,
        "oncall/home.html",
        {
            "current": current,
            "mine": mine,
            "tz": _tz(request),
            "can_manage": request.user.has_perm("oncall.manage_oncall"),
            "can_request": request.user.has_perm("oncall.request_override"),
            "pending": pending,
            "decided": decided,
            "can_pay": request.user.has_perm("oncall.view_pay_report"),
            "form": forms.OverrideForm(),
        },
    )


@require_GET
def oncall_calendar(request: HttpRequest) -> HttpResponse:
    rotation = (
        get_object_or_404(Rotation, pk=request.GET["rotation"])
        if request.GET.get("rotation", "").isdigit()
        else schedule.default_rotation()
    )
    mode = "month" if request.GET.get("view") == "month" else "week"
    day = forms.parse_day(request.GET.get("date"), clock.now().date())
    tz = ZoneInfo(rotation.time_zone if rotation else "UTC")
    if mode == "week":
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=n) for n in range(7)]
        prev, nxt = first - dt.timedelta(weeks=1), first + dt.timedelta(weeks=1)
    else:
        first = day.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1)
        grid = first - dt.timedelta(days=first.weekday())
        days = [
            grid + dt.timedelta(days=n)
            for n in range((last - grid).days + (7 - last.weekday()) % 7)
        ]
        prev, nxt = (first - dt.timedelta(days=1)).replace(day=1), last
    start = dt.datetime.combine(days[0], dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    found = schedule.shifts(rotation, start, end.astimezone(dt.UTC)) if rotation else []
    cells = []
    for d in days:
        lo = dt.datetime.combine(d, dt.time(0), tzinfo=tz)
        hi = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        cells.append(
            {
                "day": d,
                "outside": mode == "month" and d.month != first.month,
                "shifts": [s for s in found if s.starts_at < hi and s.ends_at > lo],
                "handoffs": [
                    s.starts_at.astimezone(tz)
                    for s in found
                    if lo <= s.starts_at < hi
                    and s.override is None
                    and s.starts_at == schedule.handoff_at(rotation, s.index)
                ],
            }
        )
    return render(
        request,
        "oncall/calendar.html",
        {
            "rotation": rotation,
            "rotations": Rotation.objects.filter(active=True),
            "mode": mode,
            "cells": cells,
            "shifts": found,
            "zone": str(tz),
            "prev": prev,
            "next": nxt,
            "day": day,
        },
    )


@require_POST
def oncall_override_create(request: HttpRequest, pk: int) -> HttpResponse:
    rotation = get_object_or_404(Rotation, pk=pk)
    if not request.user.has_perm("oncall.request_override"):
        raise PermissionDenied("Your role cannot ask for on-call overrides.")
    form = forms.OverrideForm(request.POST)
    if not form.is_valid():
        words = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Could not read the override ({words}).")
        return redirect("oncall-home")
    data = form.cleaned_data
    try:
        made = services.override_create(
            rotation=rotation,
            user=data["user"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data["reason"],
            actor=request.user,
        )
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("oncall-home")
    who = data["user"].get_username()
    if made.state == made.State.APPROVED:
        messages.success(request, f"{who} covers {rotation.name}.")
    else:
        messages.success(
            request,
            f"Asked for {who} to cover {rotation.name}; it counts once a manager or someone "
            "on the rotation approves it.",
        )
    return redirect("oncall-home")


@require_POST
def oncall_override_decide(request: HttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(RotationOverride, pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "refuse"):
        messages.error(request, "Choose Approve or Refuse.")
        return redirect("oncall-home")
    try:
        services.override_decide(
            override=override,
            actor=request.user,
            approve=decision == "approve",
            note=request.POST.get("note", ""),
        )
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("oncall-home")
    messages.success(request, f"Override {'approved' if decision == 'approve' else 'refused'}.")
    return redirect("oncall-home")


@require_POST
def incident_escalate(request: HttpRequest, number: str) -> HttpResponse:
    incident = get_object_or_404(Incident, number=number.upper())
    if not request.user.has_perm("incidents.drive_incident"):
        raise PermissionDenied("Your role cannot drive incidents.")
    form = forms.EscalateForm(request.POST)
    reason = form.data.get("reason", "") if not form.is_valid() else form.cleaned_data["reason"]
    try:
        escalation_services.incident_escalate(incident=incident, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Escalated {incident.number}.")
    return redirect("incident-detail", incident.number)


def _report(request: HttpRequest) -> pay.PayReport:
    month = forms.parse_month(request.GET.get("month"), clock.now().date())
    try:
        return pay.pay_report(month=month, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None


@require_GET
def oncall_pay_report(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    prev = (report.month - dt.timedelta(days=1)).replace(day=1)
    nxt = (report.month + dt.timedelta(days=32)).replace(day=1)
    return render(request, "oncall/pay_report.html", {"report": report, "prev": prev, "next": nxt})


@require_GET
def oncall_pay_person(request: HttpRequest, user_id: int) -> HttpResponse:
    report = _report(request)
    person = next((p for p in report.people if p.user.pk == user_id), None)
    return render(request, "oncall/pay_person.html", {"report": report, "person": person})


@require_GET
def oncall_pay_csv(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="oncall-pay-{report.month:%Y-%m}.csv"'
    out = csv.writer(response)
    out.writerow(
        [
            "row",
            "person",
            "incident",
            "from_utc",
            "to_utc",
            "hours",
            "amount",
            "flex_days",
            "currency",
        ]
    )
    cur = report.policy.currency
    for p in report.people:
        name = p.user.get_username()
        flex = " ".join(d.isoformat() for d in p.flex_days)
        out.writerow(["stipend", name, "", "", "", f"{p.oncall_hours:.2f}", p.stipend, "", cur])
        for w in p.work:
            out.writerow(
                [
                    "incident",
                    name,
                    w.incident.number,
                    w.starts_at.isoformat(),
                    w.ends_at.isoformat(),
                    f"{w.hours:.2f}",
                    w.pay,
                    " ".join(d.isoformat() for d in w.nights),
                    cur,
                ]
            )
        out.writerow(["total", name, "", "", "", f"{p.incident_hours:.2f}", p.total, flex, cur])
    return response
