"""Reads for escalation: the tiers and people a firing pages, and what the command page shows.

Inside a timer sweep, the tier rows and who is on call are read once per run
(``nexusops.engine.timers.sweep_memo``), not once per timer: no firing changes them, and the
next run reads them afresh, so a manager's change to a tier, a rotation or an override is
seen by the next sweep. Outside a sweep (a person escalating by hand) every call reads.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from incidents.events import CommandPagePanels
from incidents.models import OPEN_STATUSES, Incident
from nexusops.common.text import fmt
from nexusops.engine.models import Timer
from nexusops.engine.timers import sweep_memo

from . import schedule
from .escalation_policy import KIND, active_policy
from .models import EscalationPolicy, EscalationTier, Rotation

# How far ahead one read of a rotation's shifts answers "who is on call" within a sweep; a
# sweep that runs longer reads again.
ON_CALL_WINDOW = dt.timedelta(minutes=10)


def policy_tiers(policy: EscalationPolicy) -> list[EscalationTier]:
    """The policy's tiers in order, with their severities and people."""
    return sweep_memo(
        ("escalation.tiers", policy.pk),
        lambda: list(
            policy.tiers.order_by("order")
            .select_related("user__profile")
            .prefetch_related("severities")
        ),
    )


def timer_tier(timer: Timer) -> EscalationTier | None:
    """The tier an escalation timer names, with its policy and the policy's rotation."""
    policy_id, order = timer.data.get("policy"), timer.data.get("tier")
    return sweep_memo(
        ("escalation.tier", policy_id, order),
        lambda: (
            EscalationTier.objects.select_related("policy__rotation", "user__profile")
            .prefetch_related("severities")
            .filter(policy_id=policy_id, order=order)
            .first()
        ),
    )


def on_call(rotation: Rotation, at: dt.datetime) -> AbstractBaseUser | None:
    """``schedule.on_call_at``, with the rotation's shifts of the next minutes read once per
    sweep (one query for its members, one for its overrides) rather than for every timer."""
    start, stretches = sweep_memo(
        ("oncall.shifts", rotation.pk),
        lambda: (at, schedule.shifts(rotation, at, at + ON_CALL_WINDOW)),
    )
    if not start <= at < start + ON_CALL_WINDOW:
        return schedule.on_call_at(rotation, at)
    return next((s.user for s in stretches if s.starts_at <= at < s.ends_at), None)


def tier_people(
    tier: EscalationTier, policy: EscalationPolicy, now: dt.datetime
) -> list[AbstractBaseUser]:
    """Whom the tier pages at ``now``: its user, everyone active with its role, or who is on
    call (the policy's rotation, else the default one)."""
    if tier.target == EscalationTier.Target.USER:
        return [tier.user] if tier.user and tier.user.is_active else []
    if tier.target == EscalationTier.Target.ORG_ROLE:
        User = get_user_model()
        return sweep_memo(
            ("escalation.role", tier.org_role),
            lambda: list(
                User.objects.filter(is_active=True, profile__org_role=tier.org_role)
                .select_related("profile")
                .order_by("pk")
            ),
        )
    rotation = policy.rotation or sweep_memo(("oncall.default",), schedule.default_rotation)
    person = on_call(rotation, now) if rotation else None
    return [person] if person else []


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


def escalations_context(*, incident: Incident, user: User | AnonymousUser) -> dict:
    from django.urls import reverse

    return {
        "incident": incident,
        "upcoming": upcoming(incident),
        "escalate_url": reverse("incident-escalate", args=[incident.number]),
        "can_escalate": incident.status in OPEN_STATUSES
        and user.has_perm("incidents.drive_incident"),
    }


def command_page_panels(question: CommandPagePanels) -> dict | None:
    """The command page's "Escalation" fold, for those who see the internal view."""
    if not question.internal:
        return None
    user = cast("User | AnonymousUser", question.user)  # the request's user
    return {"escalations": escalations_context(incident=question.incident, user=user)}
