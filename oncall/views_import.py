"""The managers' page that previews and runs a rotation import from a PagerDuty schedule."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from nexusops.common.errors import ApplicationError, PermissionDeniedError

from . import pagerduty_import


@require_http_methods(["GET", "POST"])
def oncall_pagerduty_import(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("oncall.manage_oncall"):
        raise PermissionDenied("Only a manager can import rotations from PagerDuty.")
    context: dict = {"schedule_id": request.POST.get("schedule_id", "").strip()}
    status = 200
    try:
        if request.method == "POST" and request.POST.get("action") == "import":
            rotation = pagerduty_import.schedule_import(
                schedule_id=context["schedule_id"], actor=request.user
            )
            messages.success(request, f"Imported {rotation.name} from PagerDuty.")
            return redirect(f"{reverse('oncall-calendar')}?rotation={rotation.pk}")
        if request.method == "POST":
            context["preview"] = pagerduty_import.schedule_preview(
                schedule_id=context["schedule_id"], actor=request.user
            )
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except ApplicationError as exc:
        context["error"], status = exc.message, 400
    try:
        context["schedules"] = pagerduty_import.schedules_available(actor=request.user)
    except ApplicationError as exc:
        context["schedules"], context["list_error"] = [], exc.message
    return render(request, "oncall/pagerduty_import.html", context, status=status)
