"""Deterministic factories (sequences, no randomness)."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from incidents.models import Profile, Service, Severity
from nexusops.common import roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@nexus.example")
    password = factory.django.Password("nexusops")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        if extracted == roles.ADMIN:
            self.is_superuser = self.is_staff = True
            self.save()
            return
        if not Group.objects.filter(name=extracted).exists():
            roles.roles_sync()
        self.groups.add(Group.objects.get(name=extracted))


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    time_zone = "UTC"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())


SEVERITY_ROWS = {
    "P0": (0, "Complete outage, data breach", dt.timedelta(minutes=15), dt.timedelta(minutes=15)),
    "P1": (
        1,
        "Major feature broken, degraded performance",
        dt.timedelta(hours=1),
        dt.timedelta(minutes=15),
    ),
    "P2": (2, "Minor feature broken, some users affected", dt.timedelta(hours=4), None),
    "P3": (3, "Cosmetic issue, no user impact", dt.timedelta(hours=24), None),
}


def severity(code: str) -> Severity:
    rank, definition, response, first_update = SEVERITY_ROWS[code]
    obj, _ = Severity.objects.get_or_create(
        code=code,
        defaults={
            "rank": rank,
            "name": code,
            "definition": definition,
            "response_time": response,
            "first_update_within": first_update,
            # As seeded from the runbook: P2/P3 pages do not wake anyone.
            "pagerduty_urgency": "low" if rank >= 2 else "high",
        },
    )
    return obj


def severities() -> dict[str, Severity]:
    return {code: severity(code) for code in SEVERITY_ROWS}


def incident(
    title: str = "API errors on checkout",
    severity_code: str = "P1",
    services: tuple[str, ...] = ("api-gateway",),
    actor=None,
    **kwargs,
):
    """An incident declared through the real service (checklist, timers, timeline and all)."""
    from incidents.services import incident_declare

    severities()
    for slug in services:
        ServiceFactory(slug=slug)
    return incident_declare(
        title=title, severity=severity_code, services=list(services), actor=actor, **kwargs
    )
