"""The "Checks" card of a scenario's page: its steps' read-only actions that may run outside
an incident (the SaaS health checks of runbook 5, the MongoDB backup of 4.1), each with its
latest result and a Run button.

Read here, written through ``services.action_request`` like every other run; a run requested
from the card carries its step, so the card finds it again.
"""

from __future__ import annotations

from . import actions
from .models import ActionRun, Scenario
from .selectors import run_view


def scenario_checks(*, scenario: Scenario, user) -> list[dict]:  # noqa: ANN001 - a user
    """One row per step with a standalone action: the spec, its parameters, the last run."""
    rows = []
    can_run = user.has_perm("remediation.run_standalone")
    can_see = user.has_perm("remediation.view_actionrun")
    for step in scenario.steps.exclude(action="").order_by("order"):
        try:
            spec = actions.get(step.action)
        except Exception:  # noqa: BLE001 - a step naming a removed action has no card row
            continue
        if not spec.standalone:
            continue
        last = None
        if can_see:
            last = (
                ActionRun.objects.filter(step=step, incident__isnull=True)
                .select_related("requested_by", "decided_by")
                .order_by("-requested_at", "-pk")
                .first()
            )
        rows.append(
            {
                "step": step,
                "spec": spec,
                "params": [(p, step.params.get(p.name, p.default)) for p in spec.params],
                "dangerous": spec.is_dangerous(step.params),
                "may_run": can_run and user.has_perm(spec.permission),
                "off": spec.configured(),
                "last": run_view(last, user) if last else None,
            }
        )
    return rows
