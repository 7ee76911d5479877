"""The runbook's reference data (sections 2.1 and the service map) and the demo people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from nexusops.common import roles

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
SEVERITIES = [
    (
        "P0",
        0,
        "Critical",
        "Complete outage, data breach",
        "Platform down",
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=15),
    ),
    (
        "P1",
        1,
        "Major",
        "Major feature broken, degraded performance",
        "API errors, slow response",
        dt.timedelta(hours=1),
        dt.timedelta(minutes=15),
    ),
    (
        "P2",
        2,
        "Minor",
        "Minor feature broken, some users affected",
        "Single feature not working",
        dt.timedelta(hours=4),
        None,
    ),
    (
        "P3",
        3,
        "Cosmetic",
        "Cosmetic issue, no user impact",
        "UI bug, typo",
        dt.timedelta(hours=24),
        None,
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
]


def seed_catalog(say: Callable[[str], None]) -> None:
    for slug, name, kind, team, description in SERVICES:
        Service.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "kind": kind, "owner_team": team, "description": description},
        )
    say(f"{len(SERVICES)} services")
    for code, rank, name, definition, example, response, first_update in SEVERITIES:
        Severity.objects.update_or_create(
            code=code,
            defaults={
                "rank": rank,
                "name": name,
                "definition": definition,
                "example": example,
                "response_time": response,
                "first_update_within": first_update,
            },
        )
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
            user=user, defaults={"org_role": org_role, "time_zone": tz}
        )
    say("demo users: " + ", ".join(u[0] for u in DEMO_USERS) + f" (password {DEMO_PASSWORD!r})")


def seed_components(say: Callable[[str], None]) -> None:
    """One public status page component per NEXUS service (datastores stay internal)."""
    from .models import Component

    services = Service.objects.filter(kind=Service.Kind.SERVICE).order_by("slug")
    order = {slug: n for n, (slug, *_rest) in enumerate(SERVICES)}
    created = 0
    for service in services:
        _, made = Component.objects.get_or_create(
            service=service,
            defaults={
                "name": service.name,
                "description": service.description[:200],
                "order": order.get(service.slug, len(order)) * 10,
            },
        )
        created += made
    say(f"status page components: {services.count()} ({created} new)")
