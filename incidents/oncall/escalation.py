"""Escalation on time (runbook 2.4): each due tier is a Timer row, fired by the beat sweep.

``escalation_refresh`` makes an incident's pending escalation timers match its state; it runs
in the transaction of every change (an event handler), so resolving cancels them, reopening
re-arms them, and raising the severity or setting a flag moves them at once. The sweep locks
the incident, then the timer (the one lock order, ``nexusops.engine.timers``), re-checks
it and records ``fired_at`` in the firing's transaction, so nothing pages twice, a resolve
either commits before the firing (the timer is cancelled) or waits for it, and a stopped
beat or worker delays a firing without losing it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine import events
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_enqueue
from nexusops.integrations.slack.messages import incident_channel_name

from ..events import (
    IncidentDeclared,
    IncidentEscalated,
    IncidentTransitioned,
    IncidentUpdated,
    SlaBreached,
)
from ..models import (
    OPEN_STATUSES,
    Channel,
    EscalationPolicy,
    EscalationTier,
    Incident,
    Status,
    TimerKind,
)
from ..services.common import lock, require
from ..services.sla import fmt
from ..services.timeline import timeline_append
from . import schedule
from .senders import PAGE_USER, RESOLVE_PAGES

logger = logging.getLogger(__name__)

KIND = "escalation"
REASON_TIME = "time"
REASON_FLAG = "flag"
REASON_ACK = "ack_breach"
# The incident's fields the policy reads (its tiers' conditions).
POLICY_FIELDS = {"severity", "data_breach", "major_customer_impact"}


def active_policy() -> EscalationPolicy | None:
    return (
        EscalationPolicy.objects.filter(active=True)
        .select_related("rotation")
        .prefetch_related("tiers__severities", "tiers__user__profile")
        .first()
    )


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60} hour" + ("s" if minutes != 60 else "")
    return f"{minutes} minutes"


def _wanted(
    incident: Incident, policy: EscalationPolicy, now: dt.datetime
) -> dict[int, tuple[dt.datetime, str, str]]:
    """tier order → (due, reason code, words) for every tier this incident's state calls for."""
    if incident.status not in OPEN_STATUSES:
        return {}
    wanted: dict[int, tuple[dt.datetime, str, str]] = {}
    for tier in policy.tiers.all():
        options = []
        if incident.data_breach and tier.on_data_breach:
            options.append((now, REASON_FLAG, "data breach"))
        if incident.major_customer_impact and tier.on_major_customer_impact:
            options.append((now, REASON_FLAG, "major customer impact"))
        codes = {s.pk for s in tier.severities.all()}
        if tier.delay is not None and (not codes or incident.severity_id in codes):
            words = (
                "paged on detection"
                if not tier.delay
                else f"not resolved {_duration(tier.delay)} after detection"
            )
            options.append((incident.detected_at + tier.delay, REASON_TIME, words))
        if options:
            wanted[tier.order] = min(options, key=lambda o: o[0])
    return wanted


def escalation_refresh(incident: Incident, *, now: dt.datetime | None = None) -> None:
    """Create, move or cancel this incident's pending escalation timers (in the caller's
    transaction; the incident row is locked by the caller)."""
    now = now or clock.now()
    policy = active_policy()
    timers = list(Timer.objects.filter(incident=incident, kind=KIND))
    fired = {t.data.get("tier") for t in timers if t.fired_at and not t.data.get("skipped")}
    pending = {t.data.get("tier"): t for t in timers if t.pending}
    wanted = _wanted(incident, policy, now) if policy else {}
    for order, timer in pending.items():
        if timer.data.get("reason") == REASON_ACK:
            if incident.status != Status.TRIGGERED:
                timer.cancelled_at = now
                timer.save(update_fields=["cancelled_at"])
            continue
        want = wanted.get(order)
        if want is None or timer.data.get("policy") != policy.pk:
            timer.cancelled_at = now
            timer.save(update_fields=["cancelled_at"])
        elif timer.due_at != want[0] and not (want[1] == REASON_FLAG and timer.due_at <= now):
            timer.due_at = want[0]
            timer.data = {**timer.data, "reason": want[1], "words": want[2]}
            timer.save(update_fields=["due_at", "data"])
    for order, (due, reason, words) in wanted.items():
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


# --- firing ---------------------------------------------------------------------------------
def _targets(tier: EscalationTier, policy: EscalationPolicy, now: dt.datetime) -> list:
    if tier.target == EscalationTier.Target.USER:
        return [tier.user] if tier.user and tier.user.is_active else []
    if tier.target == EscalationTier.Target.ORG_ROLE:
        User = get_user_model()
        return list(
            User.objects.filter(is_active=True, profile__org_role=tier.org_role)
            .select_related("profile")
            .order_by("pk")
        )
    rotation = policy.rotation or schedule.default_rotation()
    person = schedule.on_call_at(rotation, now) if rotation else None
    return [person] if person else []


def _contact(user: AbstractBaseUser) -> tuple[str, str]:
    profile = getattr(user, "profile", None)
    if profile is None:
        return "", ""
    return profile.pagerduty_user_id, profile.slack_user_id


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def tier_applies(incident: Incident, tier: EscalationTier) -> bool:
    """Whether this tier's conditions (severities, flags) call for it on this incident at all,
    whenever it would be due; fall-through skips a tier that does not apply, as ``_wanted``
    never arms one."""
    if incident.data_breach and tier.on_data_breach:
        return True
    if incident.major_customer_impact and tier.on_major_customer_impact:
        return True
    codes = {s.pk for s in tier.severities.all()}
    return tier.delay is not None and (not codes or incident.severity_id in codes)


def _situation(incident: Incident) -> str:
    """What the tiers' conditions read, e.g. "P3, no data breach or major customer impact"."""
    flags = [
        words
        for on, words in (
            (incident.data_breach, "data breach"),
            (incident.major_customer_impact, "major customer impact"),
        )
        if on
    ]
    return ", ".join(
        [incident.severity.code, *(flags or ["no data breach or major customer impact"])]
    )


@dataclass
class _Reach:
    """What was done to pull one person in: what the timeline says, and the outbox rows."""

    person: AbstractBaseUser
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)  # {"user", "via", "outbox"}: one per row

    @property
    def reached(self) -> bool:
        return bool(self.pages)


def _reach(
    person: AbstractBaseUser,
    *,
    incident: Incident,
    tier: EscalationTier,
    timer: Timer,
    words: str,
) -> _Reach:
    """Enqueue the person's page and Slack invitation; record only what was enqueued."""
    name, (pd_id, slack_id) = _name(person), _contact(person)
    reach = _Reach(person)
    if not (pd_id or slack_id):
        reach.failed.append(f"could not page {name}: no PagerDuty or Slack id in the profile")
        return reach
    if pd_id:
        page = outbox_enqueue(
            target=PAGE_USER,
            key=f"{incident.number}:esc:{timer.pk}:{person.pk}:pd",
            incident=incident,
            payload={
                "user_id": pd_id,
                "title": f"{incident.number} [{incident.severity.code}] {incident.title}",
                "incident_key": f"{incident.number}:esc:{timer.pk}:{person.pk}",
                "urgency": incident.severity.pagerduty_urgency,
                "details": f"Escalation tier {tier.order} ({tier.name}): {words}.",
            },
        )
        if page.queued:
            reach.done.append(f"paged {name} via PagerDuty")
            reach.pages.append({"user": person.pk, "via": "pagerduty", "outbox": page.message.pk})
        else:
            how = "" if not slack_id else " via PagerDuty"
            reach.failed.append(f"could not page {name}{how}: {page.off_reason}")
    if slack_id:
        invite = outbox_enqueue(
            target="slack.invite",
            key=f"{incident.number}:esc:{timer.pk}:{person.pk}:slack",
            incident=incident,
            payload={"users": [slack_id]},
        )
        if invite.queued:
            channel = incident.slack_channel_name or incident_channel_name(incident.number)
            reach.done.append(f"invited {name} to #{channel} in Slack")
            reach.pages.append({"user": person.pk, "via": "slack", "outbox": invite.message.pk})
        else:
            reach.failed.append(f"could not invite {name} in Slack: {invite.off_reason}")
    return reach


def _nobody(tier: EscalationTier) -> str:
    if tier.target == EscalationTier.Target.ON_CALL:
        return "nobody is on call"
    if tier.target == EscalationTier.Target.ORG_ROLE:
        return f"nobody active has the role {tier.target_label()}"
    return f"{tier.target_label()} is not an active user"


def _next_applicable(
    incident: Incident, policy: EscalationPolicy, tier: EscalationTier
) -> EscalationTier | None:
    return next(
        (
            t
            for t in policy.tiers.order_by("order").prefetch_related("severities")
            if t.order > tier.order and tier_applies(incident, t)
        ),
        None,
    )


def fire_tier(
    *,
    incident: Incident,
    policy: EscalationPolicy,
    tier: EscalationTier,
    timer: Timer,
    now: dt.datetime,
    words: str,
    actor: AbstractBaseUser | None = None,
) -> list[int]:
    """Page the tier's people and invite them to the Slack channel, and say on the timeline
    exactly what was enqueued for whom (DESIGN.md rule 13). A person nothing could be enqueued
    for is a failed page; a tier that reached nobody falls through to the next tier whose
    conditions apply to this incident, or says that none does."""
    people = _targets(tier, policy, now)
    reaches = [_reach(p, incident=incident, tier=tier, timer=timer, words=words) for p in people]
    reached = [r for r in reaches if r.reached]
    unreached = [r for r in reaches if not r.reached]
    if reached:
        incident.responders.add(*(r.person for r in reached))
    late = int((now - timer.due_at).total_seconds())
    base = {"tier": tier.order, "policy": policy.pk, "timer": timer.pk, "reason": words}
    following = None if reached else _next_applicable(incident, policy, tier)
    if unreached or not people:
        what = "; ".join(f for r in unreached for f in r.failed) or _nobody(tier)
        if reached:
            then = ""
        elif following is not None:
            then = f" Falling through to tier {following.order} ({following.name})."
        else:
            then = (
                f" No further tier applies to this incident ({_situation(incident)}); "
                "nobody else is paged."
            )
        timeline_append(
            incident=incident,
            kind="page_failed",
            channel=Channel.SYSTEM,
            internal=True,
            at=now,
            message=f"Could not page tier {tier.order} ({tier.name}): {what}.{then}",
            data={
                **base,
                "users": [r.person.pk for r in unreached],
                "next_tier": following.order if following else None,
            },
        )
    if reached:
        said = "; ".join(
            [*(d for r in reached for d in r.done), *(f for r in reached for f in r.failed)]
        )
        entry = timeline_append(
            incident=incident,
            kind="escalated",
            actor=actor,
            channel=Channel.WEB if actor else Channel.SYSTEM,
            at=now,
            message=f"Escalated to tier {tier.order} ({tier.name}): {said} — {words}"
            + (f" (fired {late}s late)." if late > 60 else "."),
            # "paged": everyone pulled in (pay reads it); "pages": the outbox row behind each
            # word of the message, so every claim on the timeline can be checked against a row.
            data={
                **base,
                "paged": [r.person.pk for r in reached],
                "pages": [page for r in reached for page in r.pages],
                "late_seconds": max(late, 0),
            },
        )
        events.publish(IncidentEscalated(incident=incident, entry=entry))
        return [r.person.pk for r in reached]
    if following is None:
        return []
    nxt = _take_tier(incident, policy, following, now, reason="fall_through")
    return fire_tier(
        incident=incident,
        policy=policy,
        tier=following,
        timer=nxt,
        now=now,
        words=f"tier {tier.order} could not be reached",
        actor=actor,
    )


def _take_tier(
    incident: Incident, policy: EscalationPolicy, tier: EscalationTier, now: dt.datetime, **data
) -> Timer:
    """Fire ``tier`` now: its pending timer is cancelled and a fired one records the firing.

    The caller holds the incident's row lock (``lock`` or the sweep's), which every writer
    of this incident's timers takes first, so the cancel below never waits in a cycle."""
    Timer.objects.filter(
        incident=incident,
        kind=KIND,
        data__tier=tier.order,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=now)
    return Timer.objects.create(
        incident=incident,
        kind=KIND,
        due_at=now,
        fired_at=now,
        data={"tier": tier.order, "policy": policy.pk, **data},
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
    tier = (
        EscalationTier.objects.select_related("policy", "user__profile")
        .filter(policy_id=timer.data.get("policy"), order=timer.data.get("tier"))
        .first()
    )
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
    repage = _take_tier(incident, policy, first, now, reason=REASON_ACK, repage=True)
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
            "words": f"{words} (still unacknowledged {_duration(policy.ack_breach_grace)} "
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
    timer = _take_tier(incident, policy, tier, now, reason="manual", words=reason)
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


def upcoming(incident: Incident) -> list[dict]:
    """Pending escalations of an incident, soonest first, for the command page."""
    policy = active_policy()
    tiers = {t.order: t for t in policy.tiers.all()} if policy else {}
    rows = []
    for timer in Timer.objects.filter(
        # A stopped (dead) timer is listed with its error in the timers section instead.
        incident=incident,
        kind=KIND,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
        dead_at__isnull=True,
    ).order_by("due_at"):
        tier = tiers.get(timer.data.get("tier"))
        rows.append(
            {
                "timer": timer,
                "tier": tier,
                "due_at": timer.due_at,
                "due_words": fmt(timer.due_at),
                "words": timer.data.get("words", ""),
                "label": f"Tier {timer.data.get('tier')}"
                + (f": {tier.name} ({tier.target_label()})" if tier else ""),
            }
        )
    return rows


def escalations_context(*, incident: Incident, user: AbstractBaseUser) -> dict:
    from django.urls import NoReverseMatch, reverse

    try:  # the form shows once on-call's URLs are included
        url = reverse("incident-escalate", args=[incident.number])
    except NoReverseMatch:
        url = ""
    return {
        "incident": incident,
        "upcoming": upcoming(incident),
        "escalate_url": url,
        "can_escalate": bool(url)
        and incident.status in OPEN_STATUSES
        and user.has_perm("incidents.drive_incident"),
    }
