"""On-call test fixtures: people with contacts, runbook 2.4's policy and a rotation."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import Profile
from nexusops.common import roles
from oncall.models import EscalationPolicy, EscalationTier, Rotation, RotationMember
from tests.factories import UserFactory, severities


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
    from oncall.seed import ESCALATION_TIERS

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


@pytest.fixture
def org(db, settings, slack, pagerduty):
    """Runbook 2.4 with one person per tier: Olga on call (PagerDuty and Slack), Emma the
    engineering manager (both), Carl the CTO (PagerDuty only), Cleo the CEO (Slack only)."""
    settings.PAGERDUTY_SERVICE_ID = "PSVC001"
    oncall = person("olga", pd="POLGA01", slack="U0OLGA", role=roles.RESPONDER)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=oncall, position=0)
    policy = runbook_policy()
    return {
        "oncall": oncall,
        "em": person("emma", org_role="engineering_manager", pd="PEMMA01", slack="U0EMMA"),
        "cto": person("carl", org_role="cto", pd="PCARL01"),
        "ceo": person("cleo", org_role="ceo", slack="U0CLEO"),
        "ic": UserFactory(username="iris", role=roles.INCIDENT_COMMANDER),
        "policy": policy,
        "rotation": rotation,
    }
