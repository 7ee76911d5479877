"""Shared steps of the remediation tests."""

from __future__ import annotations

from incidents.models import TimelineEvent
from remediation.models import ActionRun
from remediation.services import action_approve, action_request
from tests.support.worker import wait_for

State = ActionRun.State


def settle(run: ActionRun, *states: str, timeout: float = 30.0) -> ActionRun:
    wanted = states or tuple(s for s in State.values if s not in ActionRun.ACTIVE)
    wait_for(
        lambda: ActionRun.objects.get(pk=run.pk).state in wanted,
        timeout=timeout,
        message=f"run #{run.pk} to be {'/'.join(wanted)}",
    )
    return ActionRun.objects.get(pk=run.pk)


def run_action(action: str, params: dict, *, requester, approver=None, incident=None, step=None):
    run = action_request(
        action=action, params=params, actor=requester, incident=incident, step=step
    )
    if run.dangerous:
        run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
        assert run.state == State.AWAITING_APPROVAL, run.error
        action_approve(run=run, actor=approver)
    run = settle(run)
    return run


def kinds(incident) -> list[str]:
    return list(
        TimelineEvent.objects.filter(incident=incident, kind__startswith="remediation")
        .order_by("id")
        .values_list("kind", flat=True)
    )
