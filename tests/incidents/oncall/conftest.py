"""Simulates the registrations the lead adds to incidents/apps.py and nexusops/urls.py
(tests here cannot run otherwise); harmless once those lines exist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse

from incidents.models import EscalationPolicy, EscalationTier, Profile
from nexusops.common import roles
from tests.factories import UserFactory, severities

GRANTS = ("incidents.manage_oncall", "incidents.view_pay_report")


@pytest.fixture(autouse=True)
def _oncall_registered(settings, db):
    from incidents.oncall import setup

    setup.register()
    if not set(GRANTS) <= roles.granted(roles.MANAGER):
        roles.grant(roles.MANAGER, *GRANTS)
    roles.roles_sync()
    try:
        reverse("oncall-home")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "tests.incidents.oncall.urls"


def person(username: str, *, org_role: str = "engineer", pd: str = "", slack: str = "", **kw):
    user = UserFactory(username=username, first_name=username.title(), **kw)
    Profile.objects.update_or_create(
        user=user,
        defaults={
            "org_role": org_role,
            "pagerduty_user_id": pd,
            "slack_user_id": slack,
            "time_zone": "America/Los_Angeles",
        },
    )
    return user


def runbook_policy(*, cto_delay=dt.timedelta(hours=2)) -> EscalationPolicy:
    """Runbook 2.4 exactly as the demo seeder writes it."""
    from incidents.seed import ESCALATION_TIERS

    sevs = severities()
    policy = EscalationPolicy.objects.create(name="Runbook 2.4")
    for order, name, target, org_role, delay, codes, breach, impact in ESCALATION_TIERS:
        tier = EscalationTier.objects.create(
            policy=policy,
            order=order,
            name=name,
            target=target,
            org_role=org_role,
            delay=cto_delay if order == 3 else delay,
            on_data_breach=breach,
            on_major_customer_impact=impact,
        )
        tier.severities.set([sevs[c] for c in codes])
    return policy
