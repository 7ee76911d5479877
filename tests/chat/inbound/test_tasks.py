"""The tasks are safe to run twice: the second run finds its marker and does nothing."""

from __future__ import annotations

import pytest

from chat.inbound.tasks import inbound_action_task, pagerduty_event_task
from incidents.models import Status

pytestmark = pytest.mark.django_db


def test_action_task_runs_once_per_marker(alice, live_incident, secrets):
    kwargs = {
        "action": "note",
        "params": {"incident": live_incident.pk, "text": "hello", "internal": True},
        "user_id": alice.pk,
        "once": "slack-commands:abc",
    }
    first = inbound_action_task.run(**kwargs)
    second = inbound_action_task.run(**kwargs)
    assert "Internal note added" in first and second == "duplicate"
    assert live_incident.events.filter(kind="note").count() == 1


def test_refused_action_leaves_no_marker(stakeholder, alice, live_incident, secrets):
    kwargs = {
        "action": "transition",
        "params": {"incident": live_incident.pk, "action": "acknowledge"},
        "once": "slack-commands:refused",
    }
    assert "cannot" in inbound_action_task.run(user_id=stakeholder.pk, **kwargs)
    # the same marker is free: a later, permitted run does the work
    assert "acknowledged" in inbound_action_task.run(user_id=alice.pk, **kwargs)
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED


def test_deactivated_user_is_refused(alice, live_incident, secrets):
    alice.is_active = False
    alice.save()
    result = inbound_action_task.run(
        action="transition",
        params={"incident": live_incident.pk, "action": "acknowledge"},
        user_id=alice.pk,
    )
    assert result == "no user"
    live_incident.refresh_from_db()
    assert live_incident.status == Status.TRIGGERED


def test_pagerduty_task_runs_once(live_incident, secrets):
    params = {
        "event_type": "incident.reassigned",
        "agent_name": "PD",
        "assignees": [{"id": "P1", "name": "Xena"}],
    }
    pagerduty_event_task.run(incident_id=live_incident.pk, params=params, once="pd:E1")
    assert (
        pagerduty_event_task.run(incident_id=live_incident.pk, params=params, once="pd:E1")
        == "duplicate"
    )
    assert live_incident.events.filter(kind="note").count() == 1
