import datetime as dt
import threading

import pytest
from django.db import connection

from incidents.models import TimelineEvent
from incidents.services import incident_transition, incident_update
from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_deliver
from nexusops.engine.timers import timers_sweep
from oncall.escalation_services import incident_escalate
from tests.factories import incident

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)


def escalations(inc):
    return [
        (e.data["tier"], sorted(e.data["paged"]))
        for e in TimelineEvent.objects.filter(incident=inc, kind="escalated").order_by("id")
    ]


def test_p0_pulls_in_the_manager_at_one_hour_and_the_cto_at_two(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        assert timers_sweep() == 1
        assert escalations(inc) == [(1, [org["oncall"].pk])]
        t.advance(minutes=5)
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.set(T0 + dt.timedelta(minutes=59, seconds=59))
        timers_sweep()
        assert len(escalations(inc)) == 1
        t.set(T0 + dt.timedelta(hours=1))
        timers_sweep()
        assert escalations(inc)[-1] == (2, [org["em"].pk])
        t.set(T0 + dt.timedelta(hours=1, minutes=59, seconds=59))
        timers_sweep()
        assert len(escalations(inc)) == 2
        t.set(T0 + dt.timedelta(hours=2))
        timers_sweep()
        assert escalations(inc)[-1] == (3, [org["cto"].pk])
        event = TimelineEvent.objects.filter(incident=inc, kind="escalated").latest("id")
        assert "not resolved 2 hours after detection" in event.message
        inc.refresh_from_db()
        assert set(inc.responders.values_list("username", flat=True)) == {"olga", "emma", "carl"}
    pages = OutboxMessage.objects.filter(target="pagerduty.page_user", incident=inc)
    assert sorted(m.payload["user_id"] for m in pages) == ["PCARL01", "PEMMA01", "POLGA01"]
    invites = OutboxMessage.objects.filter(target="slack.invite", incident=inc)
    assert sorted(m.payload["users"][0] for m in invites) == ["U0EMMA", "U0OLGA"]


def test_data_breach_pulls_in_the_cto_and_ceo_at_once(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=org["ic"])
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        timers_sweep()
        t.advance(minutes=10)
        incident_update(incident=inc, actor=org["ic"], data_breach=True)
        assert timers_sweep() == 2
        assert escalations(inc)[1:] == [(3, [org["cto"].pk]), (4, [org["ceo"].pk])]


def test_raising_severity_re_evaluates_at_once(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=org["ic"])
        pending = Timer.objects.filter(incident=inc, kind="escalation", fired_at__isnull=True)
        assert [tm.data["tier"] for tm in pending] == [1]
        t.advance(minutes=3)
        incident_update(incident=inc, actor=org["ic"], severity="P0")
        due = {
            tm.data["tier"]: tm.due_at
            for tm in Timer.objects.filter(
                incident=inc, kind="escalation", cancelled_at__isnull=True
            )
        }
        assert due == {1: T0, 2: T0 + dt.timedelta(hours=1), 3: T0 + dt.timedelta(hours=2)}


def test_no_escalation_after_resolve_and_rearmed_on_reopen(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        timers_sweep()
        for action in ("acknowledge", "investigate", "resolve"):
            incident_transition(incident=inc, action=action, actor=org["ic"])
        t.advance(hours=3)
        assert timers_sweep() == 0
        assert len(escalations(inc)) == 1
        incident_transition(incident=inc, action="reopen", actor=org["ic"], reason="errors back")
        timers_sweep()  # tiers 2 and 3, overdue since reopening
        assert [e[0] for e in escalations(inc)] == [1, 2, 3]


def test_not_acknowledged_re_pages_on_call_then_next_tier(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        timers_sweep()
        t.set(T0 + dt.timedelta(minutes=15))
        timers_sweep()  # ack deadline (and first update) breached
        assert escalations(inc) == [(1, [org["oncall"].pk]), (1, [org["oncall"].pk])]
        t.set(T0 + dt.timedelta(minutes=20))
        timers_sweep()
        assert escalations(inc)[-1] == (2, [org["em"].pk])


def test_acknowledging_after_a_repage_stops_the_early_tier(org):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        t.set(T0 + dt.timedelta(minutes=15))
        timers_sweep()
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.set(T0 + dt.timedelta(minutes=21))
        timers_sweep()
        assert [e[0] for e in escalations(inc)] == [1, 1]
        t.set(T0 + dt.timedelta(hours=1))
        timers_sweep()
        assert escalations(inc)[-1] == (2, [org["em"].pk])  # its own 1 h condition still holds


def test_no_contact_details_is_a_failed_page_and_falls_through(org):
    org["em"].profile.pagerduty_user_id = org["em"].profile.slack_user_id = ""
    org["em"].profile.save()
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.set(T0 + dt.timedelta(hours=1))
        timers_sweep()
    failed = TimelineEvent.objects.get(incident=inc, kind="page_failed")
    assert failed.data["tier"] == 2 and failed.data["next_tier"] == 3
    assert "could not page Emma: no PagerDuty or Slack id" in failed.message
    assert "Falling through to tier 3 (CTO)" in failed.message
    assert escalations(inc)[-1] == (3, [org["cto"].pk])  # tier 3 applies to a P0


def test_escalate_now_needs_a_reason_and_pages_the_next_tier(org):
    with clock.frozen(T0):
        inc = incident(severity_code="P2", actor=org["ic"])
        timers_sweep()
        with pytest.raises(ApplicationError, match="Say why"):
            incident_escalate(incident=inc, actor=org["ic"], reason="  ")
        assert len(escalations(inc)) == 1
        incident_escalate(incident=inc, actor=org["ic"], reason="customers on Twitter")
        assert escalations(inc)[-1] == (2, [org["em"].pk])
        event = TimelineEvent.objects.filter(incident=inc, kind="escalated").latest("id")
        assert event.actor == org["ic"] and "customers on Twitter" in event.message


def test_page_reaches_pagerduty_assigned_to_the_person(org, pagerduty):
    with clock.frozen(T0):
        inc = incident(severity_code="P1", actor=org["ic"])
        timers_sweep()
    message = OutboxMessage.objects.get(target="pagerduty.page_user", incident=inc)
    assert outbox_deliver(message_id=message.pk) == "sent"
    [pd] = [i for i in pagerduty.state()["incidents"] if i.get("assignments")]
    assert pd["assignments"] == [{"assignee": {"id": "POLGA01", "type": "user_reference"}}]
    assert pd["service"]["id"] == "PSVC001" and pd["created_by"] == "ic@nexusops.example"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_page_once(org):
    with clock.frozen(T0):
        incs = [incident(severity_code="P0", actor=org["ic"]) for _ in range(10)]
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            with clock.frozen(T0 + dt.timedelta(hours=3)):
                barrier.wait()
                counts.append(timers_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    per_incident = [escalations(i) for i in incs]
    assert all(sorted(e[0] for e in esc) == [1, 1, 2, 3] for esc in per_incident)
    keys = OutboxMessage.objects.filter(target="pagerduty.page_user").values_list("key", flat=True)
    assert len(keys) == len(set(keys)) == 40


def test_command_page_shows_countdowns_and_escalate_now(org, client):
    with clock.frozen(T0):
        inc = incident(severity_code="P0", actor=org["ic"])
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        client.force_login(org["ic"])
        page = client.get(f"/incidents/{inc.number}/").content.decode()
        assert "Tier 2: Engineering manager" in page and 'data-due="2026-03-10T19:00:00' in page
        response = client.post(f"/incidents/{inc.number}/escalate/", {"reason": "board call"})
    assert response.status_code == 302
    assert TimelineEvent.objects.filter(incident=inc, kind="escalated").count() == 1
