"""The runbook's reference data (sections 2.1 and the service map) and the demo people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from nexusops.common import roles
from nexusops.standins import demo

from .models import Profile, Service, Severity

SERVICES = [
    ("api-gateway", "API gateway", "service", "platform", "Entry point for all client traffic."),
    ("user-service", "User service", "service", "identity", "Accounts and profiles."),
    (
        "auth-service",
        "Auth service",
        "service",
        "identity",
        "Login, JWT and OAuth; sessions in Redis.",
    ),
    ("content-service", "Content service", "service", "content", "Uploads and media in S3."),
    (
        "notification-service",
        "Notification service",
        "service",
        "growth",
        "Email (SendGrid) and push; queue in Redis.",
    ),
    ("billing-service", "Billing service", "service", "payments", "Stripe payments and webhooks."),
    (
        "postgresql",
        "PostgreSQL",
        "datastore",
        "platform",
        "Primary relational database (nexus_prod).",
    ),
    ("redis", "Redis", "datastore", "platform", "Cache, sessions and queues."),
    ("mongodb", "MongoDB", "datastore", "content", "Document store."),
    (
        "s3",
        "S3",
        "datastore",
        "content",
        "Media (nexus-media, nexus-uploads) and backups (nexus-backups).",
    ),
]

# Runbook 2.1; the 15-minute initial update is runbook 2.2 step 3, applied to P0/P1.
# The last column is the PagerDuty urgency of escalation pages: P0/P1 (outage, major feature
# broken, response within 15 min / 1 h) wake people; P2/P3 (some users, cosmetic; 4 h / 24 h)
# notify without waking anyone.
SEVERITIES = [
    (
        "P0",
        0,
        "Critical",
        "Complete outage, data breach",
        "Platform down",
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=15),
        "high",
    ),
    (
        "P1",
        1,
        "Major",
        "Major feature broken, degraded performance",
        "API errors, slow response",
        dt.timedelta(hours=1),
        dt.timedelta(minutes=15),
        "high",
    ),
    (
        "P2",
        2,
        "Minor",
        "Minor feature broken, some users affected",
        "Single feature not working",
        dt.timedelta(hours=4),
        None,
        "low",
    ),
    (
        "P3",
        3,
        "Cosmetic",
        "Cosmetic issue, no user impact",
        "UI bug, typo",
        dt.timedelta(hours=24),
        None,
        "low",
    ),
]

DEMO_PASSWORD = "nexusops"
# username, role group, org role, time zone, first name
DEMO_USERS = [
    ("ic", roles.INCIDENT_COMMANDER, Profile.OrgRole.ENGINEER, "America/Los_Angeles", "Iris"),
    ("responder", roles.RESPONDER, Profile.OrgRole.ENGINEER, "Europe/Berlin", "Ravi"),
    ("manager", roles.MANAGER, Profile.OrgRole.ENGINEERING_MANAGER, "America/New_York", "Maya"),
    ("stakeholder", roles.STAKEHOLDER, Profile.OrgRole.ENGINEER, "UTC", "Sam"),
    ("admin", None, Profile.OrgRole.CTO, "UTC", "Ada"),
    # Escalation tier 4 (runbook 2.4) pages the CEO: the demo needs one to page.
    ("ceo", roles.STAKEHOLDER, Profile.OrgRole.CEO, "America/Los_Angeles", "Chris"),
]


def seed_catalog(say: Callable[[str], None]) -> None:
    for slug, name, kind, team, description in SERVICES:
        Service.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "kind": kind, "owner_team": team, "description": description},
        )
    say(f"{len(SERVICES)} services")
    for code, rank, name, definition, example, response, first_update, urgency in SEVERITIES:
        Severity.objects.update_or_create(
            code=code,
            defaults={
                "rank": rank,
                "name": name,
                "definition": definition,
                "example": example,
                "response_time": response,
                "first_update_within": first_update,
                "pagerduty_urgency": urgency,
            },
        )
    from .services.severity import severity_ranks_sync

    severity_ranks_sync()  # a re-seed may have moved a rank
    say("severities P0-P3")
    from .services.checklist import checklist_templates_seed

    checklist_templates_seed()
    say("runbook 2.2 step checklist")


def seed_users(say: Callable[[str], None]) -> None:
    User = get_user_model()
    for username, role, org_role, tz, first_name in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "email": f"{username}@nexus.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        if role is None:
            user.is_superuser = user.is_staff = True
        elif role == roles.MANAGER:
            user.is_staff = True  # managers edit runbook data in the admin
        user.save()
        if role is not None:
            user.groups.set([Group.objects.get(name=role)])
        Profile.objects.update_or_create(
            user=user,
            defaults={
                "org_role": org_role,
                "time_zone": tz,
                # Ids the stand-ins know, so Slack invites and PagerDuty pages work in the demo.
                "slack_user_id": demo.slack_user_id(username),
                "pagerduty_user_id": f"P{username.upper()}",
            },
        )
    say("demo users: " + ", ".join(u[0] for u in DEMO_USERS) + f" (password {DEMO_PASSWORD!r})")


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
    from .models import EscalationPolicy, EscalationTier, PayPolicy

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
    from .models import Rotation, RotationMember
    from .oncall.handoff import rotation_timers_arm

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
