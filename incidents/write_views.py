"""The command page's small write endpoints (the reads and the list are ``views``).

Each parses its form, calls one service and answers with the refreshed sections of the
command page as out-of-band swaps (htmx) or a redirect back; an ``ApplicationError`` becomes
a message, an inline error with its 4xx status for htmx.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from nexusops.common.views import forbidden
from nexusops.engine.models import Timer

from . import forms, selectors, services
from .models import Incident
from .views import LIVE_SECTIONS, _get

WRITE_SECTIONS = (*LIVE_SECTIONS, "people", "edit", "note", "messages")


@require_POST
def incident_transition(request: HttpRequest, number: str) -> HttpResponse:
    incident = _get(number)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        return _after_write(request, incident, error=_parse_error(form))
    data = form.cleaned_data
    return _write(
        request,
        incident,
        lambda: services.incident_transition(
            incident=incident,
            action=data["action"],
            reason=data["reason"],
            expected_version=data["version"],
            actor=request.user,
        ),
        success=lambda i: f"{i.number} is now {i.get_status_display().lower()}.",
    )


@require_POST
def incident_note(request: HttpRequest, number: str) -> HttpResponse:
    incident = _get(number)
    form = forms.NoteForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    return _write(
        request,
        incident,
        lambda: services.incident_note_add(
            incident=incident,
            message=data.get("message", ""),
            internal=data.get("internal", False),
            actor=request.user,
        ),
        success=lambda i: (
            "Internal note added." if data.get("internal") else "Stakeholder update posted."
        ),
        form_state={"note_data": request.POST},
    )


@require_POST
def incident_assign(request: HttpRequest, number: str) -> HttpResponse:
    incident = _get(number)
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        return _after_write(request, incident, error=_parse_error(form))
    data = form.cleaned_data
    return _write(
        request,
        incident,
        lambda: services.incident_assign(
            incident=incident,
            commander=data["commander"] or None,
            responders=data["responders"],
            expected_version=data["version"],
            actor=request.user,
        ),
        success=lambda i: "Assignment saved.",
    )


@require_POST
def incident_edit(request: HttpRequest, number: str) -> HttpResponse:
    incident = _get(number)
    form = forms.EditForm(request.POST)
    if not form.is_valid():
        return _after_write(
            request,
            incident,
            error=_parse_error(form),
            form_state={"edit_data": request.POST},
        )
    data = form.cleaned_data
    return _write(
        request,
        incident,
        lambda: services.incident_update(
            incident=incident,
            expected_version=data["version"],
            actor=request.user,
            **form.service_kwargs(),
        ),
        success=lambda i: "Changes saved.",
        form_state={"edit_data": request.POST},
    )


@require_POST
def incident_checklist(request: HttpRequest, number: str, key: str) -> HttpResponse:
    incident = _get(number)
    form = forms.ChecklistForm(request.POST)
    form.is_valid()
    done = form.cleaned_data.get("done", False)
    return _write(
        request,
        incident,
        lambda: services.checklist_item_set(
            incident=incident, key=key, done=done, actor=request.user
        ),
        success=None,
    )


@require_POST
def incident_timer_retry(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    incident = _get(number)
    if not Timer.objects.filter(pk=pk, incident=incident).exists():
        raise Http404(f"No such timer on {incident.number}.")
    return _write(
        request,
        incident,
        lambda: services.timer_retry(timer=pk, actor=request.user),
        success=lambda i: "Retrying the timer: the next sweep fires it.",
    )


def _write(
    request: HttpRequest,
    incident: Incident,
    call: Callable[[], object],
    *,
    success: Callable[[Incident], str] | None,
    form_state: dict | None = None,
) -> HttpResponse:
    try:
        call()
    except ApplicationError as exc:
        return _after_write(request, incident, error=exc, form_state=form_state)
    fresh = _get(incident.number)
    if success is not None:
        messages.success(request, success(fresh))
    return _after_write(request, fresh)


def _after_write(
    request: HttpRequest,
    incident: Incident,
    *,
    error: ApplicationError | None = None,
    form_state: dict | None = None,
) -> HttpResponse:
    if isinstance(error, PermissionDeniedError):
        return forbidden(request, error.message)
    stale = isinstance(error, Conflict) and error.code == "stale_version"
    if stale:
        error.message = (
            f"{incident.number} was changed by someone else, reloaded: check the current "
            "values below and try again."
        )
        form_state = None  # show what is there now, not the stale input
    if error is not None:
        messages.error(request, error.message)
    if not request.htmx:
        return redirect("incident-detail", incident.number)
    if error is not None:
        incident = _get(incident.number)  # the row may have moved under us
    context = selectors.incident_command_context(
        incident=incident,
        user=request.user,
        query=request.GET,
        sections=WRITE_SECTIONS,
        errors=(error.fields if error is not None and not stale else {}),
        **(form_state or {}),
    )
    return render(
        request,
        "incidents/incident_detail.html#oob",
        context,
        status=error.status if error is not None else 200,
    )


def _parse_error(form) -> ApplicationError:  # noqa: ANN001 - any form
    fields = forms.errors_of(form)
    words = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in fields.items())
    return ApplicationError(f"Could not read the form ({words}).", fields=fields)
