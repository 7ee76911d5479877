"""Attaching runbook scenarios to an incident and working through their steps."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from incidents.models import Incident
from incidents.services.common import lock
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, PermissionDeniedError

from ..models import IncidentScenario, Scenario, ScenarioStep, StepCheck


def _require(actor: User, perm: str, words: str) -> None:
    if not (actor and actor.is_active and actor.has_perm(perm)):
        raise PermissionDeniedError(f"Your role cannot {words}.")


def scenario_attach(*, incident: Incident, scenario: Scenario, actor: User) -> IncidentScenario:
    """Attach once; attaching again is a no-op (the page may be stale)."""
    _require(actor, "remediation.attach_scenario", "attach runbook scenarios")
    with transaction.atomic():
        incident = lock(incident)
        if incident.is_closed:
            raise ApplicationError(f"{incident.number} is closed.")
        attached, created = IncidentScenario.objects.get_or_create(
            incident=incident,
            scenario=scenario,
            defaults={"attached_by": actor, "attached_at": clock.now()},
        )
        if created:
            timeline_append(
                incident=incident,
                kind="scenario_attached",
                actor=actor,
                internal=True,
                data={"scenario": scenario.slug},
                message=f"attached the runbook scenario “{scenario.title}”.",
            )
    return attached


def scenario_step_set(*, incident: Incident, step: ScenarioStep, done: bool, actor: User) -> bool:
    """Tick or untick one step of an attached scenario; returns whether anything changed."""
    _require(actor, "remediation.run_diagnosis", "work through runbook steps")
    with transaction.atomic():
        incident = lock(incident)
        if not IncidentScenario.objects.filter(
            incident=incident, scenario_id=step.scenario_id
        ).exists():
            raise ApplicationError("Attach the step's scenario to this incident first.")
        if done:
            _, changed = StepCheck.objects.get_or_create(
                incident=incident, step=step, defaults={"done_by": actor, "done_at": clock.now()}
            )
        else:
            changed = bool(StepCheck.objects.filter(incident=incident, step=step).delete()[0])
        if changed:
            first_line = step.text.strip().splitlines()[0][:150]
            timeline_append(
                incident=incident,
                kind="scenario_step",
                actor=actor,
                internal=True,
                data={"step": step.pk, "done": done},
                message=f"{'ticked' if done else 'unticked'} “{first_line}” "
                f"({step.scenario.title}).",
            )
    return changed
