"""Reads for the runbook pages and the command page's remediation panel."""

from __future__ import annotations

import markdown
import nh3
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from incidents.models import Incident

from . import actions
from .models import ActionRun, IncidentScenario, Scenario, ScenarioStep, StepCheck

RECENT_RUNS = 10


def markdown_html(text: str) -> SafeString:
    """Runbook text is Markdown written by managers: rendered, then sanitised."""
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - sanitised by nh3 just above


def scenario_suggest(*, incident: Incident, limit: int = 3) -> list[Scenario]:
    """Scenarios whose keywords appear in the incident's words, or that share its services."""
    words = " ".join([incident.title, incident.summary, incident.impact_description]).lower()
    services = set(incident.services.values_list("pk", flat=True))
    scored = []
    for scenario in Scenario.objects.prefetch_related("services"):
        score = 3 * sum(1 for k in scenario.keyword_list() if k in words)
        score += sum(1 for s in scenario.services.all() if s.pk in services)
        if score:
            scored.append((-score, scenario.order, scenario))
    return [s for *_, s in sorted(scored, key=lambda t: (t[0], t[1]))[:limit]]


# The runbook's order: diagnose, resolve, then follow up (the kinds' values sort otherwise,
# "follow_up" before "resolution").
KIND_RANK = {kind: n for n, kind in enumerate(ScenarioStep.Kind.values)}


def _step_rows(steps: list[ScenarioStep], done: dict[int, StepCheck], runs: dict) -> list[dict]:
    rows = []
    for step in sorted(steps, key=lambda s: (KIND_RANK.get(s.kind, 99), s.order, s.pk)):
        spec = None
        if step.action:
            try:
                spec = actions.get(step.action)
            except Exception:  # noqa: BLE001 - a step naming a removed action shows no button
                spec = None
        rows.append(
            {
                "step": step,
                "html": markdown_html(step.text),
                "check": done.get(step.pk),
                "spec": spec,
                "params": [(p, step.params.get(p.name, p.default)) for p in spec.params]
                if spec
                else [],
                "dangerous": spec.is_dangerous(step.params) if spec else False,
                "last_run": runs.get(step.pk),
            }
        )
    return rows


def run_view(run: ActionRun, user) -> dict:  # noqa: ANN001 - a user
    """One run as the templates show it, with what this user may do to it."""
    try:
        label = actions.get(run.action).label
    except Exception:  # noqa: BLE001
        label = run.action
    awaiting = run.state == ActionRun.State.AWAITING_APPROVAL
    return {
        "run": run,
        "label": label,
        "can_decide": awaiting
        and user.pk != run.requested_by_id
        and user.has_perm("remediation.approve_remediation"),
        "can_withdraw": awaiting and user.pk == run.requested_by_id,
        "output_short": run.output[:2000],
        "output_cut": len(run.output) > 2000,
    }


def incident_panel_context(*, incident: Incident, user) -> dict:  # noqa: ANN001 - a user
    """Everything ``remediation/_incident_panel.html`` renders for one incident and user."""
    attached = list(IncidentScenario.objects.filter(incident=incident).select_related("scenario"))
    scenario_ids = [a.scenario_id for a in attached]
    steps = list(ScenarioStep.objects.filter(scenario_id__in=scenario_ids))
    done = {c.step_id: c for c in StepCheck.objects.filter(incident=incident, step__in=steps)}
    runs = list(
        ActionRun.objects.filter(incident=incident).select_related("requested_by", "decided_by")
    )
    last_by_step: dict[int, ActionRun] = {}
    for run in runs:  # newest first
        if run.step_id and run.step_id not in last_by_step:
            last_by_step[run.step_id] = run
    scenarios = [
        {
            "scenario": a.scenario,
            "symptoms": markdown_html(a.scenario.symptoms),
            "steps": _step_rows(
                [s for s in steps if s.scenario_id == a.scenario_id], done, last_by_step
            ),
        }
        for a in attached
    ]
    suggested = [s for s in scenario_suggest(incident=incident) if s.pk not in scenario_ids]
    active = [r for r in runs if r.active]
    return {
        "incident": incident,
        "scenarios": scenarios,
        "suggested": suggested,
        "others": Scenario.objects.exclude(pk__in=scenario_ids).exclude(
            pk__in=[s.pk for s in suggested]
        ),
        "pending": [run_view(r, user) for r in active if r.state in _WAITING],
        "running": [run_view(r, user) for r in active if r.state not in _WAITING],
        "finished": [run_view(r, user) for r in runs if not r.active][:RECENT_RUNS],
        "polling": bool(active),
        "actions": actions.all_actions(),
        "can": _can(user, closed=incident.is_closed),
    }


_WAITING = (ActionRun.State.PREVIEWING, ActionRun.State.AWAITING_APPROVAL)


def _can(user, *, closed: bool = False) -> dict:  # noqa: ANN001
    return {
        "diagnose": not closed and user.has_perm("remediation.run_diagnosis"),
        "remediate": not closed and user.has_perm("remediation.run_remediation"),
        "approve": user.has_perm("remediation.approve_remediation"),
        "attach": not closed and user.has_perm("remediation.attach_scenario"),
        "standalone": user.has_perm("remediation.run_standalone"),
    }


def runbook_list_context(*, user) -> dict:  # noqa: ANN001
    standalone = ActionRun.objects.filter(incident__isnull=True).select_related(
        "requested_by", "decided_by"
    )
    return {
        "scenarios": Scenario.objects.prefetch_related("services"),
        "standalone_actions": [s for s in actions.all_actions() if s.standalone],
        "actions": actions.all_actions(),
        "runs": [run_view(r, user) for r in standalone[:25]],
        "polling": standalone.filter(state__in=ActionRun.ACTIVE).exists(),
        "can": _can(user),
    }


def scenario_detail_context(*, scenario: Scenario) -> dict:
    steps = list(scenario.steps.all())
    return {
        "scenario": scenario,
        "symptoms": markdown_html(scenario.symptoms),
        "notes": markdown_html(scenario.notes),
        "steps": _step_rows(steps, {}, {}),
    }


def runs_visible_to(user):  # noqa: ANN001, ANN201
    """Standalone runs for those who may see runs; incident runs for those who see internals."""
    q = Q(pk__in=[])
    if user.has_perm("remediation.view_actionrun"):
        q |= Q(incident__isnull=True)
    if user.has_perm("incidents.view_internal"):
        q |= Q(incident__isnull=False)
    return ActionRun.objects.filter(q)
