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
