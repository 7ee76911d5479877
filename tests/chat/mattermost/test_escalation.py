"""Escalation reaches people through the chats NEXUSOPS_CHAT names, not Slack alone."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import TimelineEvent
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from nexusops.engine.timers import timers_sweep
from oncall.models import Rotation, RotationMember
from tests.factories import UserFactory, incident
from tests.oncall.conftest import runbook_policy
from tests.support.outbox import deliver_due

from .conftest import calls

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)


def test_the_on_call_person_is_invited_to_the_mattermost_channel(mattermost):
    iris = UserFactory(
        username="iris",
        first_name="Iris",
        email="iris@nexus.example",
        role=roles.INCIDENT_COMMANDER,
    )
    robin = UserFactory(
        username="robin", first_name="Robin", email="robin@nexus.example", role=roles.RESPONDER
    )
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=robin, position=0)
    runbook_policy()
    with clock.frozen(T0):
        inc = incident(severity_code="P0", actor=iris, commander=iris)
        deliver_due()  # the channel exists before anyone is invited to it
        timers_sweep()  # tier 1: the on-call engineer

    escalated = TimelineEvent.objects.get(incident=inc, kind="escalated")
    assert f"invited Robin to #{inc.number.lower().replace('inc-', 'incident-')} in Mattermost" in (
        escalated.message
    )
    [page] = escalated.data["pages"]
    row = OutboxMessage.objects.get(pk=page["outbox"])
    assert (page["via"], row.target) == ("mattermost", "mattermost.invite")
    assert not OutboxMessage.objects.filter(target__startswith="slack.").exists()

    deliver_due()
    row.refresh_from_db()
    assert row.state == "sent", row.last_error
    assert calls(mattermost, "POST", "/members")
    state = mattermost.state()
    [channel] = state["channels"].values()
    members = [state["users"][u]["username"] for u in state["members"][channel["id"]]]
    assert "robin" in members
    assert TimelineEvent.objects.filter(incident=inc, kind="mattermost_invited").exists()
