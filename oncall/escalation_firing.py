"""Firing an escalation tier: page its people, invite them to the incident's Slack channel,
and say on the timeline exactly what was enqueued (DESIGN.md rule 13).

Called with the incident locked: by the timer sweep (``escalation_services.fire_timer``), a
re-page after a missed acknowledgement, or a person escalating by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from incidents.events import IncidentEscalated
from incidents.models import Channel, Incident
from incidents.services.common import responders_add
from incidents.services.timeline import timeline_append
from nexusops.common.services import actor_name
from nexusops.engine import events
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue
from nexusops.integrations.chat.registry import chat_provider_class, chat_providers_configured
from nexusops.integrations.slack.messages import incident_channel_name

from .escalation_policy import KIND, next_applicable, situation
from .models import EscalationPolicy, EscalationTier
from .selectors import policy_tiers, tier_people
from .senders import PAGE_USER


def _contact(user: AbstractBaseUser) -> tuple[str, str]:
    profile = getattr(user, "profile", None)
    if profile is None:
        return "", ""
    return profile.pagerduty_user_id, profile.slack_user_id


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
    """Enqueue the person's page and chat invitations; record only what was enqueued."""
    name, (pd_id, slack_id) = actor_name(person), _contact(person)
    reach = _Reach(person)
    chats = chat_providers_configured(settings.NEXUSOPS_CHAT)
    if not (pd_id or slack_id and "slack" in chats or person.email and chats != ("slack",)):
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
    for chat in chats:
        # Slack invites by the id on the profile; the other chats find people by e-mail
        # among the incident's responders, which this person joins when reached.
        if chat == "slack" and not slack_id or chat != "slack" and not person.email:
            continue
        label = chat_provider_class(chat).label
        invite = outbox_enqueue(
            target=f"{chat}.invite",
            key=f"{incident.number}:esc:{timer.pk}:{person.pk}:{chat}",
            incident=incident,
            payload={"users": [slack_id]} if chat == "slack" else {},
        )
        if invite.queued:
            channel = (
                incident.slack_channel_name if chat == "slack" else None
            ) or incident_channel_name(incident.number)
            reach.done.append(f"invited {name} to #{channel} in {label}")
            reach.pages.append({"user": person.pk, "via": chat, "outbox": invite.message.pk})
        else:
            reach.failed.append(f"could not invite {name} in {label}: {invite.off_reason}")
    return reach


def _nobody(tier: EscalationTier) -> str:
    if tier.target == EscalationTier.Target.ON_CALL:
        return "nobody is on call"
    if tier.target == EscalationTier.Target.ORG_ROLE:
        return f"nobody active has the role {tier.target_label()}"
    return f"{tier.target_label()} is not an active user"


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
    people = tier_people(tier, policy, now)
    reaches = [_reach(p, incident=incident, tier=tier, timer=timer, words=words) for p in people]
    reached = [r for r in reaches if r.reached]
    unreached = [r for r in reaches if not r.reached]
    if reached:
        responders_add(incident, (r.person for r in reached))
    late = int((now - timer.due_at).total_seconds())
    base = {"tier": tier.order, "policy": policy.pk, "timer": timer.pk, "reason": words}
    following = None if reached else next_applicable(incident, policy_tiers(policy), tier)
    if unreached or not people:
        what = "; ".join(f for r in unreached for f in r.failed) or _nobody(tier)
        if reached:
            then = ""
        elif following is not None:
            then = f" Falling through to tier {following.order} ({following.name})."
        else:
            then = (
                f" No further tier applies to this incident ({situation(incident)}); "
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
    nxt = take_tier(incident, policy, following, now, reason="fall_through")
    return fire_tier(
        incident=incident,
        policy=policy,
        tier=following,
        timer=nxt,
        now=now,
        words=f"tier {tier.order} could not be reached",
        actor=actor,
    )


def take_tier(
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
