"""Escalation on time (runbook 2.4): each due tier is a Timer row, fired by the beat sweep.

``escalation_refresh`` makes an incident's pending escalation timers match its state; it runs
in the transaction of every change (an event handler), so resolving cancels them, reopening
re-arms them, and raising the severity or setting a flag moves them at once. The sweep locks
the incident, then the timer (the one lock order, ``nexusops.engine.timers``), re-checks
it and records ``fired_at`` in the firing's transaction, so nothing pages twice, a resolve
either commits before the firing (the timer is cancelled) or waits for it, and a stopped
beat or worker delays a firing without losing it.

What the policy calls for is in ``escalation_policy``, paging a tier in
``escalation_firing``, the reads in ``selectors``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from incidents.events import IncidentDeclared, IncidentTransitioned, IncidentUpdated, SlaBreached
from incidents.models import OPEN_STATUSES, Channel, Incident, Status, TimerKind
from incidents.services.common import lock, require
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.text import duration_words
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_enqueue

from .escalation_firing import fire_tier, take_tier
from .escalation_policy import (
    KIND,
    POLICY_FIELDS,
    REASON_ACK,
    REASON_FLAG,
    active_policy,
    wanted,
)
from .selectors import timer_tier
from .senders import PAGE_USER, RESOLVE_PAGES

logger = logging.getLogger(__name__)


def escalation_refresh(incident: Incident, *, now: dt.datetime | None = None) -> None:
    """Create, move or cancel this incident's pending escalation timers (in the caller's
    transaction; the incident row is locked by the caller)."""
    now = now or clock.now()
    policy = active_policy()
    timers = list(Timer.objects.filter(incident=incident, kind=KIND))
    fired = {t.data.get("tier") for t in timers if t.fired_at and not t.data.get("skipped")}
    pending = {t.data.get("tier"): t for t in timers if t.pending}
    called = wanted(incident, policy, now) if policy else {}
    for order, timer in pending.items():
        if timer.data.get("reason") == REASON_ACK:
            if incident.status != Status.TRIGGERED:
                timer.cancelled_at = now
                timer.save(update_fields=["cancelled_at"])
            continue
        want = called.get(order)
        if want is None or timer.data.get("policy") != policy.pk:
            timer.cancelled_at = now
            timer.save(update_fields=["cancelled_at"])
        elif timer.due_at != want[0] and not (want[1] == REASON_FLAG and timer.due_at <= now):
            timer.due_at = want[0]
            timer.data = {**timer.data, "reason": want[1], "words": want[2]}
            timer.save(update_fields=["due_at", "data"])
    for order, (due, reason, words) in called.items():
        if order in fired or (order in pending and pending[order].pending):
            continue
        Timer.objects.create(
            incident=incident,
            kind=KIND,
            due_at=due,
            data={"tier": order, "policy": policy.pk, "reason": reason, "words": words},
        )


def rearm(event: IncidentDeclared | IncidentUpdated | IncidentTransitioned) -> None:
    """Whatever the policy reads may have changed: align the pending escalation timers."""
    if isinstance(event, IncidentUpdated) and not POLICY_FIELDS & event.changed:
        return
    if isinstance(event, IncidentTransitioned) and event.action in ("investigate", "mitigate"):
        return  # still open, nothing the policy reads changed
    escalation_refresh(event.incident, now=event.entry.created_at)


def pages_resolve(event: IncidentTransitioned) -> None:
    """The incident resolved: end its per-person PagerDuty pages too, whatever channel the
    resolve came from (PagerDuty resolving its own alert does not touch the pages)."""
    incident = event.incident
    if event.action != "resolve":
        return
    if not OutboxMessage.objects.filter(incident=incident, target=PAGE_USER).exists():
        return
    outbox_enqueue(
        target=RESOLVE_PAGES,
        key=f"{incident.number}:{event.entry.pk}:pd-resolve-pages",
        incident=incident,
        payload={"resolution": f"{incident.number} was resolved in the console."},
    )


def fire_timer(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    """The sweep's handler for kind ``escalation``: the incident, then the timer, are locked,
    the timer is marked fired, and ``incident`` is the committed state, checked here again."""
    if incident is None or incident.status not in OPEN_STATUSES:
        # Resolving cancels pending tiers in its own transaction, so this is a timer the
        # refresh missed; marked skipped so a reopen re-arms the tier instead of thinking it
        # paged.
        timer.data = {**timer.data, "skipped": incident.status if incident else "no incident"}
        timer.save(update_fields=["data"])
        return
    tier = timer_tier(timer)
    if tier is None:
        logger.warning("escalation timer %s names a tier that is gone", timer.pk)
        return
    if timer.data.get("reason") == REASON_ACK and incident.status != Status.TRIGGERED:
        timer.data = {**timer.data, "skipped": "acknowledged"}
        timer.save(update_fields=["data"])
        escalation_refresh(incident, now=now)
        return
    fire_tier(
        incident=incident,
        policy=tier.policy,
        tier=tier,
        timer=timer,
        now=now,
        words=timer.data.get("words") or "due",
    )


def repage_on_breach(event: SlaBreached) -> None:
    """Not acknowledged in time: page tier 1 again now, then the next tier after the grace."""
    incident, timer, now = event.incident, event.timer, event.entry.created_at
    if timer.kind != TimerKind.ACK_DEADLINE or incident.status != Status.TRIGGERED:
        return
    policy = active_policy()
    if policy is None or not policy.repage_on_ack_breach:
        return
    tiers = list(policy.tiers.all())
    if not tiers:
        return
    first = tiers[0]
    words = f"not acknowledged within {incident.severity.code}'s response time"
    repage = take_tier(incident, policy, first, now, reason=REASON_ACK, repage=True)
    fire_tier(
        incident=incident,
        policy=policy,
        tier=first,
        timer=repage,
        now=now,
        words=f"re-page: {words}",
    )
    if len(tiers) < 2:
        return
    nxt = tiers[1]
    due = now + policy.ack_breach_grace
    pending = Timer.objects.filter(
        incident=incident,
        kind=KIND,
        data__tier=nxt.order,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
    ).first()
    if pending is not None and pending.due_at <= due:
        return
    if pending is not None:
        pending.cancelled_at = now
        pending.save(update_fields=["cancelled_at"])
    Timer.objects.create(
        incident=incident,
        kind=KIND,
        due_at=due,
        data={
            "tier": nxt.order,
            "policy": policy.pk,
            "reason": REASON_ACK,
            "words": f"{words} (still unacknowledged {duration_words(policy.ack_breach_grace)} "
            "after the re-page)",
        },
    )


@transaction.atomic
def incident_escalate(
    *,
    incident: Incident | int,
    actor: AbstractBaseUser | None,
    reason: str,
    channel: str = Channel.WEB,
) -> Incident:
    """ "Escalate now": pull in the next tier that has not been paged yet, with a reason."""
    require(actor, "drive_incident")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError(
            "Say why you escalate now.", fields={"reason": ["A reason is required."]}
        )
    if len(reason) > 500:
        raise ApplicationError(
            "The reason is too long (500 characters at most).",
            fields={"reason": ["At most 500 characters."]},
        )
    incident = lock(incident)
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"{incident.number} is {incident.status}; only an open incident escalates.")
    policy = active_policy()
    if policy is None or not policy.tiers.exists():
        raise Conflict("No active escalation policy with tiers; a manager sets one in the admin.")
    fired = set(
        Timer.objects.filter(incident=incident, kind=KIND, fired_at__isnull=False)
        .exclude(data__has_key="skipped")
        .exclude(data__has_key="repage")
        .values_list("data__tier", flat=True)
    )
    tier = next((t for t in policy.tiers.all() if t.order not in fired), None)
    if tier is None:
        raise Conflict(
            f"Every tier of “{policy.name}” has already been paged for {incident.number}."
        )
    now = clock.now()
    timer = take_tier(incident, policy, tier, now, reason="manual", words=reason)
    fire_tier(
        incident=incident,
        policy=policy,
        tier=tier,
        timer=timer,
        now=now,
        words=f"escalated by hand: {reason}",
        actor=actor,
    )
    return incident
