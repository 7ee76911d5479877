"""The escalation handler re-checks, under the sweep's locks, that the incident still wants
the page (the lock order and re-check of ``nexusops.engine.timers``)."""

from __future__ import annotations

import datetime as dt

from incidents.models import TimelineEvent
from incidents.services import incident_transition
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.timers import timers_sweep
from oncall.models import Rotation, RotationMember
from tests.factories import UserFactory, incident

from .conftest import person, runbook_policy

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)


def test_a_tier_left_armed_on_a_resolved_incident_pages_nobody(db, settings):
    settings.PAGERDUTY_SERVICE_ID = ""
    oncall = person("olga", slack="U0OLGA", role=roles.RESPONDER)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=oncall, position=0)
    policy = runbook_policy()
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=ic)
        timers_sweep()
        for action in ("acknowledge", "investigate", "resolve"):
            incident_transition(incident=inc, action=action, actor=ic)
        # As if a refresh had missed it: a tier still armed on the resolved incident.
        stray = Timer.objects.create(
            incident=inc,
            kind="escalation",
            due_at=T0,
            data={"tier": 2, "policy": policy.pk, "reason": "time", "words": "stray"},
        )
        t.advance(hours=2)
        before = OutboxMessage.objects.count()
        timers_sweep()
    stray.refresh_from_db()
    assert stray.fired_at is not None and stray.data["skipped"] == "resolved"
    assert not TimelineEvent.objects.filter(incident=inc, kind="escalated", data__tier=2).exists()
    assert OutboxMessage.objects.count() == before
