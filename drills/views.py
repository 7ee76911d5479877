"""DR drill pages: the list (plan, start), one drill (steps, evidence, result). Thin: parse,
call one service, redirect; an ApplicationError becomes a message (or a 403)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from nexusops.common.errors import ApplicationError

from . import selectors, services
from .models import Drill, DrillStep

VIEW = "drills.view_drill"


def _need_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW):
        raise PermissionDenied("Your role cannot see DR drills.")


def _when(raw: str, field: str) -> dt.datetime | None:
    """An ISO date-time from a form (``datetime-local`` is read as UTC); None when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApplicationError(f"{field}: not a date and time.", fields={field: ["Bad."]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _do(request: HttpRequest, call, success: str, drill: Drill | None = None) -> HttpResponse:  # noqa: ANN001
    try:
        call()
    except ApplicationError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        details = "; ".join(m for msgs in (exc.fields or {}).values() for m in msgs)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, success)
    return redirect("drill-detail", drill.pk) if drill else redirect("drill-list")


@require_GET
def drill_list(request: HttpRequest) -> HttpResponse:
    _need_view(request)
    context = selectors.drill_list_context()
    context["can_run"] = request.user.has_perm(services.RUN)
    return render(request, "drills/drill_list.html", context)


@require_POST
def drill_schedule(request: HttpRequest) -> HttpResponse:
    _need_view(request)
    return _do(
        request,
        lambda: services.drill_schedule(
            scheduled_for=_when(request.POST.get("when", ""), "when") or _raise("when"),
            actor=request.user,
        ),
        "Drill planned; reminders are set.",
    )


def _raise(field: str):  # noqa: ANN202
    raise ApplicationError(f"{field} is required.", fields={field: ["Required."]})


@require_GET
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _need_view(request)
    drill = get_object_or_404(Drill, pk=pk)
    context = selectors.drill_detail_context(drill)
    context["can_run"] = request.user.has_perm(services.RUN)
    context["people"] = User.objects.filter(is_active=True).order_by("username")
    return render(request, "drills/drill_detail.html", context)


@require_POST
def drill_start(request: HttpRequest, pk: int) -> HttpResponse:
    _need_view(request)
    drill = get_object_or_404(Drill, pk=pk)
    return _do(
        request,
        lambda: services.drill_start(
            drill=drill,
            actor=request.user,
            failure_at=_when(request.POST.get("failure_at", ""), "failure_at"),
        ),
        "Drill started: the clock runs from T0.",
        drill,
    )


@require_POST
def drill_complete(request: HttpRequest, pk: int) -> HttpResponse:
    _need_view(request)
    drill = get_object_or_404(Drill, pk=pk)
    return _do(
        request,
        lambda: services.drill_complete(drill=drill, actor=request.user),
        "Drill complete; the next one is planned.",
        drill,
    )


def _step(pk: int, step: int) -> DrillStep:
    return get_object_or_404(DrillStep.objects.select_related("drill"), pk=step, drill_id=pk)


@require_POST
def step_evidence(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    _need_view(request)
    found = _step(pk, step)
    upload = request.FILES.get("file")
    kind = request.POST.get("kind", "")

    def call() -> None:
        if upload is not None and upload.size > services.MAX_FILE_BYTES:
            _raise_big()
        services.drill_evidence_add(
            step=found,
            actor=request.user,
            kind=kind,
            text=request.POST.get("text", ""),
            url=request.POST.get("url", "").strip(),
            file_name=upload.name if upload else "",
            content_type=upload.content_type or "" if upload else "",
            content=upload.read() if upload else None,
        )

    return _do(request, call, "Evidence attached.", found.drill)


def _raise_big() -> None:
    raise ApplicationError("A file is at most 2 MB.", fields={"file": ["Too big."]})


@require_POST
def step_complete(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    _need_view(request)
    found = _step(pk, step)
    return _do(
        request,
        lambda: services.drill_step_complete(
            step=found,
            actor=request.user,
            recovery_point=_when(request.POST.get("recovery_point", ""), "recovery_point"),
        ),
        f"Step {found.order} complete.",
        found.drill,
    )


@require_POST
def step_assign(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    _need_view(request)
    found = _step(pk, step)
    owner = User.objects.filter(pk=request.POST.get("owner") or 0).first()

    def call() -> None:
        if owner is None:
            _raise("owner")
        services.drill_step_assign(step=found, owner=owner, actor=request.user)

    return _do(request, call, f"Step {found.order} assigned.", found.drill)


@require_GET
def evidence_download(request: HttpRequest, pk: int, evidence: int) -> HttpResponse:
    _need_view(request)
    found = selectors.evidence_file(evidence)
    if found is None or found.step.drill_id != pk:
        return HttpResponse("No such file.", status=404, content_type="text/plain")
    response = HttpResponse(bytes(found.content), content_type="application/octet-stream")
    safe = "".join(c for c in found.file_name if c.isalnum() or c in "._-") or "evidence"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
