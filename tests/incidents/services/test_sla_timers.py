import datetime as dt
import threading

import pytest
from django.db import connection

from incidents.events import SlaBreached
from incidents.models import ChecklistItem, Incident, TimelineEvent
from incidents.services import incident_note_add, incident_transition, incident_update
from nexusops.common import clock, roles
from nexusops.engine.models import Timer
from nexusops.engine.tasks import timers_sweep_task
from nexusops.engine.timers import timers_sweep
from tests.factories import UserFactory, incident, severities
from tests.support.events import extra_handler
from tests.support.worker import wait_for

T0 = dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ic(db):
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


def _breaches(inc):
    return list(TimelineEvent.objects.filter(incident=inc, kind="sla_breached").order_by("id"))


@pytest.mark.django_db
def test_unacknowledged_p1_breaches_exactly_at_one_hour(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=ic)
        incident_note_add(incident=inc, actor=ic, message="Investigating checkout errors.")
        t.advance(minutes=59, seconds=59)
        assert timers_sweep() == 0
        assert _breaches(inc) == []
        t.advance(seconds=1)
        assert timers_sweep() == 1
        [event] = _breaches(inc)
        assert (
            event.message == "SLA breached: not acknowledged within P1's response time of 1 hour."
        )
        assert event.channel == "system" and event.data["sla"] == "ack_deadline"
        inc.refresh_from_db()
        assert inc.sla_breached is True
        assert inc.sla_next_due_at is None
        assert timers_sweep() == 0  # fired once, never again


@pytest.mark.django_db
def test_acknowledging_in_time_cancels_the_deadline(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        t.advance(hours=3)
        incident_transition(incident=inc, action="acknowledge", actor=ic)
        t.advance(hours=5)
        assert timers_sweep() == 0
    inc.refresh_from_db()
    assert not inc.sla_breached and inc.sla_next_due_at is None


@pytest.mark.django_db
def test_first_public_update_within_fifteen_minutes_satisfies_the_clock(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=ic)
        incident_transition(incident=inc, action="acknowledge", actor=ic)
        t.advance(minutes=10)
        incident_note_add(incident=inc, actor=ic, message="internal only", internal=True)
        inc.refresh_from_db()
        assert inc.first_update_at is None  # internal notes are not stakeholder updates
        incident_note_add(incident=inc, actor=ic, message="We are investigating login failures.")
        t.advance(minutes=30)
        assert timers_sweep() == 0
    inc.refresh_from_db()
    assert inc.first_update_at == T0 + dt.timedelta(minutes=10)
    assert ChecklistItem.objects.get(incident=inc, key="initial_update").done
    assert not inc.sla_breached


@pytest.mark.django_db
def test_missing_first_update_breaches_at_fifteen_minutes(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=ic)
        incident_transition(incident=inc, action="acknowledge", actor=ic)
        t.advance(minutes=15)
        assert timers_sweep() == 1
    [event] = _breaches(inc)
    assert "no stakeholder update within 15 minutes" in event.message


@pytest.mark.django_db
def test_raising_severity_recomputes_open_deadlines_and_says_so(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P3", actor=ic)
        assert inc.sla_next_due_at == T0 + dt.timedelta(hours=24)
        t.advance(minutes=5)
        inc = incident_update(incident=inc, actor=ic, severity="P1", expected_version=inc.version)
    assert set(
        inc.timers.filter(fired_at__isnull=True, cancelled_at__isnull=True).values_list(
            "kind", "due_at"
        )
    ) == {
        ("ack_deadline", T0 + dt.timedelta(hours=1)),
        ("first_update", T0 + dt.timedelta(minutes=15)),
    }
    assert inc.sla_next_due_at == T0 + dt.timedelta(minutes=15)
    event = inc.events.order_by("-id").first()
    assert event.message.startswith("Severity changed P3 → P1.")
    assert (
        "Acknowledge deadline moved from 2026-03-07 09:00 UTC to 2026-03-06 10:00 UTC"
        in event.message
    )
    assert "First stakeholder update set to 2026-03-06 09:15 UTC" in event.message


@pytest.mark.django_db
def test_a_breach_already_past_under_the_new_severity_fires_on_the_next_sweep(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        incident_note_add(incident=inc, actor=ic, message="update")
        t.advance(hours=2)
        incident_update(incident=inc, actor=ic, severity="P1")
        assert timers_sweep() == 1
    assert "P1's response time of 1 hour" in _breaches(inc)[0].message


@pytest.mark.django_db
def test_a_breach_is_published_as_an_event(ic):
    seen = []

    def told(event: SlaBreached) -> None:
        seen.append((event.incident.number, event.timer.kind, event.entry.kind))

    with extra_handler(SlaBreached, told), clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        t.advance(hours=4)
        timers_sweep()
    assert seen == [(inc.number, "ack_deadline", "sla_breached")]


@pytest.mark.django_db
def test_monitoring_end_ticks_the_checklist(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        for action in ["acknowledge", "investigate", "resolve", "monitor"]:
            inc = incident_transition(incident=inc, action=action, actor=ic)
        t.advance(minutes=30)
        timers_sweep()
    assert ChecklistItem.objects.get(incident=inc, key="monitor_30").done
    assert inc.events.order_by("-id").first().kind == "monitoring_complete"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_fire_each_timer_once():
    severities()
    with clock.frozen(T0) as t:
        incidents = [incident(title=f"i{i}", severity_code="P2") for i in range(30)]
        t.advance(hours=5)
        counts: list[int] = []

        def sweep() -> None:
            try:
                counts.append(timers_sweep())
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sum(counts) == 30
    assert TimelineEvent.objects.filter(kind="sla_breached").count() == 30
    assert Timer.objects.filter(fired_at__isnull=False).count() == 30
    assert all(Incident.objects.get(pk=i.pk).sla_breached for i in incidents)


@pytest.mark.smoke
def test_the_beat_sweep_task_runs_on_a_real_worker(celery_worker):
    severities()
    # The worker has its own clock: make the deadline really past.
    late = incident(severity_code="P1", detected_at=clock.now() - dt.timedelta(hours=2))
    timers_sweep_task.delay()
    wait_for(
        lambda: TimelineEvent.objects.filter(incident=late, kind="sla_breached").exists(),
        timeout=30,
        message="the breach recorded by the worker",
    )
    late.refresh_from_db()
    assert late.sla_breached


@pytest.mark.django_db
def test_a_failing_handler_stays_due_and_does_not_hold_up_the_others(ic):
    def _explode(timer, incident, now):
        raise RuntimeError("boom")

    with extra_handler(fn=_explode, timer="test_explodes"):
        with clock.frozen(T0) as t:
            inc = incident(severity_code="P2", actor=ic)
            bad = Timer.objects.create(incident=inc, kind="test_explodes", due_at=T0)
            t.advance(hours=5)
            assert timers_sweep() == 1  # the ack deadline fired; the bad timer did not
            bad.refresh_from_db()
            assert bad.fired_at is None
            assert _breaches(inc)
            assert timers_sweep() == 0  # still due, still failing, still not blocking


@pytest.mark.django_db
def test_a_one_minute_monitoring_period_is_said_in_good_english(ic, settings):
    from incidents.services import incident_transition

    settings.INCIDENT_MONITORING_MINUTES = 1
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P3", actor=ic)
        for action in ("acknowledge", "investigate", "resolve", "monitor"):
            incident_transition(incident=inc, action=action, actor=ic)
        t.advance(minutes=2)
        timers_sweep()
    done = TimelineEvent.objects.get(incident=inc, kind="monitoring_complete")
    assert "Monitoring period of 1 minute complete" in done.message
