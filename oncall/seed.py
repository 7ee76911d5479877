"""On-call's part of the reference and demo data: runbook 2.4's escalation policy and 8.3's pay
figures (every install), and the demo's weekly rotation and past overrides."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model

from incidents.models import Profile, Severity
from nexusops.common import clock
from nexusops.standins import demo

from .handoff import rotation_timers_arm
from .models import (
    EscalationPolicy,
    EscalationTier,
    PayPolicy,
    Rotation,
    RotationMember,
    RotationOverride,
)

# Runbook 2.4; tier 3 also fires at once on a data breach, tier 4 on either flag.
ESCALATION_TIERS = [
    # order, name, target, org_role, delay, severities, on data_breach, on major impact
    (1, "On-call engineer", "on_call", "", dt.timedelta(0), (), False, False),
    (
        2,
        "Engineering manager",
        "org_role",
        "engineering_manager",
        dt.timedelta(hours=1),
        ("P0", "P1"),
        False,
        False,
    ),
    (3, "CTO", "org_role", "cto", dt.timedelta(hours=2), ("P0",), True, False),
    (4, "CEO", "org_role", "ceo", None, (), True, True),
]


def seed_escalation(say: Callable[[str], None]) -> None:
    """The runbook 2.4 policy and the 8.3 pay figures; a manager's later edits are kept."""
    policy, created = EscalationPolicy.objects.get_or_create(
        name="Runbook 2.4",
        defaults={"description": "Escalation path from the NEXUS operations runbook, 2.4."},
    )
    if created or not policy.tiers.exists():
        for order, name, target, org_role, delay, sevs, breach, impact in ESCALATION_TIERS:
            tier = EscalationTier.objects.create(
                policy=policy,
                order=order,
                name=name,
                target=target,
                org_role=org_role,
                delay=delay,
                on_data_breach=breach,
                on_major_customer_impact=impact,
            )
            tier.severities.set(Severity.objects.filter(code__in=sevs))
    PayPolicy.objects.get_or_create(name="default")
    say("escalation policy (runbook 2.4) and on-call pay policy (runbook 8.3)")


def seed_rotation(say: Callable[[str], None]) -> None:
    """A weekly demo rotation ic → responder → manager, handoff Friday 09:00 Pacific."""
    User = get_user_model()
    rotation, _ = Rotation.objects.get_or_create(
        name="Primary",
        defaults={
            "time_zone": "America/Los_Angeles",
            "handoff_weekday": 4,
            "handoff_time": dt.time(9, 0),
            "start_date": dt.date(2026, 1, 2),
        },
    )
    if not rotation.members.exists():
        for position, username in enumerate(("ic", "responder", "manager")):
            RotationMember.objects.create(
                rotation=rotation, user=User.objects.get(username=username), position=position
            )
    contacts = {"ic": "PIRIS01", "responder": "PRAVI01", "manager": "PMAYA01", "admin": "PADA001"}
    for username, pd_id in contacts.items():
        Profile.objects.filter(user__username=username, pagerduty_user_id="").update(
            pagerduty_user_id=pd_id, slack_user_id=demo.slack_user_id(username), hourly_rate=80
        )
    rotation_timers_arm(rotation)
    say("on-call rotation Primary: ic, responder, manager (Friday 09:00 America/Los_Angeles)")


# (weeks ago, who covers, whom they replace, why): the demo's past overrides, all approved.
PAST_OVERRIDES = (
    (9, "manager", "ic", "Iris at a conference"),
    (5, "ic", "responder", "Ravi on leave"),
    (2, "responder", "manager", "Swap for a family event"),
)


def seed_override_history(say: Callable[[str], None]) -> None:
    """Three past overrides on the demo rotation, so the calendar and pay show some."""
    rotation = Rotation.objects.filter(active=True).first()
    User = get_user_model()
    people = {
        u.username: u for u in User.objects.filter(username__in=["ic", "responder", "manager"])
    }
    if rotation is None or len(people) < 3:
        say("on-call override history: skipped (demo rotation or users missing)")
        return
    reasons = [reason for *_, reason in PAST_OVERRIDES]
    if RotationOverride.objects.filter(rotation=rotation, reason__in=reasons).exists():
        say("on-call override history: already there")
        return
    rng = random.Random(20260301)
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for weeks_ago, who, replaces, reason in PAST_OVERRIDES:
        starts = today - dt.timedelta(weeks=weeks_ago, days=rng.randint(0, 3))
        RotationOverride.objects.create(
            rotation=rotation,
            user=people[who],
            starts_at=starts,
            replaces=people[replaces],
            ends_at=starts + dt.timedelta(days=2),
            reason=reason,
            requested_by=people[replaces],
            approved_by=people["manager"],
        )
    say(f"on-call override history: {len(PAST_OVERRIDES)} past overrides")
