"""Runbook pages, the command page's remediation panel and its one-click writes.

Views are thin: parse, call one service or selector, render. An ``ApplicationError`` becomes
a message; htmx requests get the refreshed panel (or run card) back with the error's status.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from incidents import selectors as incident_selectors
from incidents.models import Incident
from nexusops.common.errors import ApplicationError, NotFoundError

from . import selectors, services
from .models import ActionRun, Scenario, ScenarioStep
from .scenario_checks import scenario_checks

PANEL = "remediation/_incident_panel.html"


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role cannot see this.")


def _incident(request: HttpRequest, number: str) -> Incident:
    _need(request, "incidents.view_internal")
    try:
        return incident_selectors.incident_get(number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _run(request: HttpRequest, pk: int) -> ActionRun:
    run = selectors.runs_visible_to(request.user).filter(pk=pk).select_related("incident").first()
    if run is None:
        if ActionRun.objects.filter(pk=pk).exists():
            raise PermissionDenied("Your role cannot see this run.")
        raise Http404("No such action run.")
    return run


def _panel(request: HttpRequest, incident: Incident, *, error: ApplicationError | None = None):
    context = {
        "remediation": selectors.incident_panel_context(incident=incident, user=request.user)
    }
    if error is not None:
        context["error"] = error.message
    return render(request, PANEL, context, status=error.status if error else 200)


def _after(request: HttpRequest, incident: Incident | None, call, *, success: str = ""):  # noqa: ANN001
    error = None
    result = None
    try:
        result = call()
    except ApplicationError as exc:
        error = exc
    if request.htmx and incident is not None:
        return _panel(request, incident, error=error)
    if error is not None and error.status == 403:
        raise PermissionDenied(error.message)
    if error is not None:
        messages.error(request, error.message)
        if request.htmx:
            return HttpResponse(error.message, status=error.status)
    elif success:
        messages.success(request, success)
    if incident is not None:
        return redirect("incident-detail", incident.number)
    if isinstance(result, ActionRun):
        return redirect("remediation-run-detail", result.pk)
    return redirect("runbook-list")


# ---- runbooks ------------------------------------------------------------------------------


@require_GET
def runbook_list(request: HttpRequest) -> HttpResponse:
    _need(request, "remediation.view_scenario")
    context = selectors.runbook_list_context(user=request.user)
    template = "remediation/runbook_list.html"
    return render(request, f"{template}#runs" if request.htmx else template, context)


@require_GET
def runbook_detail(request: HttpRequest, slug: str) -> HttpResponse:
    _need(request, "remediation.view_scenario")
    scenario = get_object_or_404(Scenario, slug=slug)
    context = selectors.scenario_detail_context(scenario=scenario)
    context["checks"] = scenario_checks(scenario=scenario, user=request.user)
    return render(request, "remediation/runbook_detail.html", context)


# ---- the incident panel ----------------------------------------------------------------------


@require_GET
def incident_panel(request: HttpRequest, number: str) -> HttpResponse:
    return _panel(request, _incident(request, number))


@require_POST
def scenario_attach(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident(request, number)
    scenario = Scenario.objects.filter(slug=request.POST.get("scenario", "")).first()
    if scenario is None:
        return _after(request, incident, lambda: _raise("Choose a scenario to attach."))
    return _after(
        request, incident,
        lambda: services.scenario_attach(incident=incident, scenario=scenario, actor=request.user),
        success=f"Attached “{scenario.title}”.",
    )  # fmt: skip


@require_POST
def step_set(request: HttpRequest, number: str, step: int) -> HttpResponse:
    incident = _incident(request, number)
    found = get_object_or_404(ScenarioStep, pk=step)
    done = request.POST.get("done") == "on"
    return _after(
        request, incident,
        lambda: services.scenario_step_set(
            incident=incident, step=found, done=done, actor=request.user
        ),
    )  # fmt: skip


def _raise(message: str):  # noqa: ANN202
    raise ApplicationError(message)


# ---- runs ------------------------------------------------------------------------------------


@require_POST
def run_request(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("incident", "").strip()
    incident = _incident(request, number) if number else None
    step = None
    if request.POST.get("step"):
        step = ScenarioStep.objects.filter(pk=_int(request.POST["step"])).first()
    key = request.POST.get("action", "")
    params = {
        name[2:]: value
        for name, value in request.POST.items()
        if name.startswith("p_") and value.strip() != ""
    }

    def call() -> ActionRun:
        return services.action_request(
            action=key, params=params, actor=request.user, incident=incident, step=step,
            reason=request.POST.get("reason", ""),
        )  # fmt: skip

    return _after(request, incident, call, success="Requested.")


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context = {"r": selectors.run_view(run, request.user), "polling": run.active}
    template = "remediation/run_detail.html"
    status = 286 if request.htmx and not run.active else 200  # htmx: stop polling
    return render(request, f"{template}#run" if request.htmx else template, context, status=status)


@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    note = request.POST.get("note", "")
    return _decision(
        request, run, lambda: services.action_approve(run=run, actor=request.user, note=note),
        "Approved: a worker runs it now.",
    )  # fmt: skip


@require_POST
def run_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    note = request.POST.get("note", "")
    return _decision(
        request, run, lambda: services.action_refuse(run=run, actor=request.user, note=note),
        "Refused.",
    )  # fmt: skip


def _decision(request: HttpRequest, run: ActionRun, call, success: str) -> HttpResponse:  # noqa: ANN001
    if run.incident is not None:
        return _after(request, run.incident, call, success=success)
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
    else:
        messages.success(request, success)
    return redirect("remediation-run-detail", run.pk)


@require_GET
def run_output(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    response = HttpResponse(run.output, content_type="text/plain; charset=utf-8")
    name = f"nexusops-run-{run.pk}-{run.action.replace('.', '-')}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
