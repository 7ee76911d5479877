"""Requesting, approving and refusing action runs (DESIGN.md rule 9).

A safe action is queued at once. A dangerous one first gets a dry run (a worker calls the
action's ``preview``), then waits for a second person whose role may approve it; the approval
window is a Timer row (``remediation_approval_expiry``) fired by the beat sweep. Every request,
approval, refusal and expiry is an internal timeline event on the incident, in the same
transaction as the change.

One lock order (DESIGN.md rule 11), everywhere a run changes: the run's incident (if any),
then the run, then its timers. Timers are taken with ``SKIP LOCKED``: a timer the sweep holds
is being fired right now, and its handler re-checks the run's state after locking the run, so
waiting for it could only deadlock against that same handler.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from incidents.models import Incident
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, NotFoundError, PermissionDeniedError
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue

from .. import actions
from ..actions.config import approval_ttl_minutes
from ..models import ActionRun, IncidentScenario, ScenarioStep
from .dispatch import run_queue
from .events import describe, run_event

State = ActionRun.State
APPROVAL_TIMER = "remediation_approval_expiry"
DEADLINE_TIMER = "remediation_deadline"
PREVIEW_TARGET = "remediation.preview"
RUN_TARGET = "remediation.run"


def _can(actor: User, perm: str) -> bool:
    return bool(actor and actor.is_active and actor.has_perm(perm))


def action_request(
    *,
    action: str,
    params: dict,
    actor: User,
    incident: Incident | None = None,
    step: ScenarioStep | None = None,
    reason: str = "",
) -> ActionRun:
    """Validate fully, then store the request and hand it to a worker after commit."""
    spec = actions.get(action)
    if not _can(actor, spec.permission):
        raise PermissionDeniedError(f"Your role cannot request “{spec.label}”.")
    if incident is None and not _can(actor, "remediation.run_standalone"):
        raise PermissionDeniedError("Your role cannot run actions outside an incident.")
    if incident is not None:
        if not _can(actor, "incidents.view_internal"):
            raise PermissionDeniedError("Your role cannot run actions on incidents.")
        if incident.is_closed:
            raise Conflict(f"{incident.number} is closed; reopen it to run actions on it.")
    cleaned = actions.clean(spec, params or {})
    unset = spec.configured()
    if unset:
        raise ApplicationError(
            f"{spec.label} cannot run: {spec.vendor} is {unset}.", code="not_configured"
        )
    if step is not None and step.action != action:
        raise ApplicationError("That step runs another action.")
    # Without an incident, a step only says which scenario page's card the run belongs to.
    if (
        step is not None
        and incident is not None
        and not IncidentScenario.objects.filter(
            incident=incident, scenario_id=step.scenario_id
        ).exists()
    ):
        raise ApplicationError("That step is not part of a scenario attached to this incident.")
    if len(reason) > 500:
        raise ApplicationError(
            "A reason is at most 500 characters.", fields={"reason": ["Too long."]}
        )
    dangerous = spec.is_dangerous(cleaned)
    with transaction.atomic():
        run = ActionRun.objects.create(
            action=spec.key,
            params=cleaned,
            dangerous=dangerous,
            incident=incident,
            step=step,
            state=State.PREVIEWING if dangerous else State.QUEUED,
            requested_by=actor,
            requested_at=clock.now(),
            reason=reason.strip(),
        )
        tail = " (dangerous: dry run, then a second person approves)" if dangerous else ""
        run_event(run, "remediation_requested", f"requested {describe(run)}{tail}.", actor=actor)
        if dangerous:
            _enqueue_preview(run)
        else:
            run_queue(run)
    return run


def _enqueue_preview(run: ActionRun) -> None:
    enqueued = outbox_enqueue(
        target=PREVIEW_TARGET,
        key=f"remediation-run:{run.pk}:{PREVIEW_TARGET}",
        payload={"run": run.pk},
        incident=run.incident,
    )
    if not enqueued.queued:  # the preview sender is always on; say so if that ever changes
        raise ApplicationError(f"The dry run cannot be queued: {enqueued.off_reason}.")


def _locked(run: ActionRun | int) -> ActionRun:
    """The run, locked, after its incident (the subject above it) is locked."""
    pk = run.pk if isinstance(run, ActionRun) else run
    # A run never changes incident, so reading the id unlocked is safe.
    incident_id = ActionRun.objects.filter(pk=pk).values_list("incident_id", flat=True).first()
    if incident_id is not None:
        # run_event updates the incident row (last_event_id) later in this transaction; taking
        # that lock now, before the run, is what keeps every path in the same order.
        list(Incident.objects.select_for_update().filter(pk=incident_id).values_list("pk"))
    found = (
        ActionRun.objects.select_for_update(of=("self",))
        .select_related("incident", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFoundError("No such action run.")
    return found


def _cancel_timers(run: ActionRun, kind: str) -> None:
    """Cancel the run's pending timers of ``kind``; call with the run locked.

    A timer the sweep holds is skipped, not waited for: the sweep is firing it and its handler
    will find the run no longer in the state it watches, and do nothing.
    """
    free = Timer.objects.select_for_update(skip_locked=True).filter(
        kind=kind, data__run=run.pk, fired_at__isnull=True, cancelled_at__isnull=True
    )
    Timer.objects.filter(pk__in=list(free.values_list("pk", flat=True))).update(
        cancelled_at=clock.now()
    )


def awaiting_approval(run: ActionRun, preview: str, pinned: dict | None = None) -> None:
    """The dry run is done: show it and start the approval window. Inside a transaction.

    ``pinned`` is what the preview showed by id (a version, a revision): the run does that.
    """
    now = clock.now()
    run.state, run.preview, run.pinned = State.AWAITING_APPROVAL, preview, pinned or {}
    run.approval_expires_at = now + dt.timedelta(minutes=approval_ttl_minutes())
    run.save(update_fields=["state", "preview", "pinned", "approval_expires_at"])
    Timer.objects.create(
        incident=run.incident, kind=APPROVAL_TIMER, due_at=run.approval_expires_at,
        data={"run": run.pk},
    )  # fmt: skip
    run_event(
        run,
        "remediation_preview",
        f"dry run of {describe(run)}; awaiting approval until "
        f"{run.approval_expires_at:%H:%M UTC}:\n{preview}",
        data={"preview": True},
    )


def _expire(run: ActionRun) -> None:
    run.state = State.EXPIRED
    run.save(update_fields=["state"])
    _cancel_timers(run, APPROVAL_TIMER)
    run_event(run, "remediation_expired", f"approval of {describe(run)} expired; not run.")


def action_approve(*, run: ActionRun | int, actor: User, note: str = "") -> ActionRun:
    """A second person says yes: the run is queued for a worker.

    Races the approval-expiry sweep: whichever locks the run first wins, and the loser sees
    the new state (this raises ``Conflict(code="approval_expired")`` when expiry won).
    """
    expired = False
    with transaction.atomic():
        run = _locked(run)
        spec = actions.get(run.action)
        _check_decider(run, actor, spec.permission, "approve")
        expires_at = run.approval_expires_at  # set whenever a run awaits approval
        if expires_at is None or clock.now() >= expires_at:
            _expire(run)
            expired = True
        else:
            run.state, run.decided_by, run.decided_at = State.QUEUED, actor, clock.now()
            run.decision_note = note.strip()[:500]
            run.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
            _cancel_timers(run, APPROVAL_TIMER)
            words = f" ({run.decision_note})" if run.decision_note else ""
            run_event(run, "remediation_approved", f"approved {describe(run)}{words}.", actor=actor)
            run_queue(run)
    if expired:
        raise Conflict("The approval window of this request has passed; request it again.",
                       code="approval_expired")  # fmt: skip
    return run


def action_refuse(*, run: ActionRun | int, actor: User, note: str = "") -> ActionRun:
    """A second person says no; the requester may withdraw their own request."""
    with transaction.atomic():
        run = _locked(run)
        withdraw = actor.pk == run.requested_by_id
        if not withdraw:
            _check_decider(run, actor, "remediation.approve_remediation", "refuse")
        elif run.state != State.AWAITING_APPROVAL:
            raise Conflict(f"Only a request awaiting approval can be withdrawn ({run.state}).")
        run.state, run.decided_at = State.REFUSED, clock.now()
        run.decided_by = None if withdraw else actor
        run.decision_note = (note.strip() or ("withdrawn by the requester" if withdraw else ""))[
            :500
        ]
        run.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        _cancel_timers(run, APPROVAL_TIMER)
        verb = "withdrew" if withdraw else "refused"
        words = f": {run.decision_note}" if run.decision_note and not withdraw else ""
        run_event(run, "remediation_refused", f"{verb} {describe(run)}{words}.", actor=actor)
    return run


def _check_decider(run: ActionRun, actor: User, perm: str, verb: str) -> None:
    if actor.pk == run.requested_by_id:
        raise PermissionDeniedError(
            f"You cannot {verb} your own request: a second person must.", code="self_approval"
        )
    if not (_can(actor, "remediation.approve_remediation") and _can(actor, perm)):
        raise PermissionDeniedError(f"Your role cannot {verb} dangerous actions.")
    if run.incident_id and not _can(actor, "incidents.view_internal"):
        raise PermissionDeniedError(f"Your role cannot {verb} actions on incidents.")
    if run.state == State.EXPIRED:
        raise Conflict(
            "The approval window of this request has passed; request it again.",
            code="approval_expired",
        )
    if run.state != State.AWAITING_APPROVAL:
        raise Conflict(
            f"This run is {run.get_state_display().lower()}, not awaiting approval.",
            code="not_awaiting_approval",
        )
