"""A person's action racing the beat sweep on PostgreSQL (DESIGN.md rule 11).

Each round declares a fresh incident, then starts the person's transition and
``timers_sweep()`` in two threads (each with its own connection) behind a barrier. Whatever
order the database lets them run in, the person's action commits, nobody sees an error
(``deadlock detected`` was the old failure), and the sweep's effects are either wholly before
the person's action or absent.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from incidents.models import Status, TimelineEvent
from incidents.services import incident_note_add, incident_transition
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.timers import timers_sweep
from oncall.models import Rotation, RotationMember
from tests.factories import UserFactory, incident
from tests.oncall.conftest import person, runbook_policy

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
ROUNDS = 50


@pytest.fixture
def org(transactional_db, settings, slack, pagerduty):
    settings.PAGERDUTY_SERVICE_ID = "PSVC001"
    oncall = person("olga", pd="POLGA01", slack="U0OLGA", role=roles.RESPONDER)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=oncall, position=0)
    return {
        "oncall": oncall,
        "em": person("emma", org_role="engineering_manager", pd="PEMMA01", slack="U0EMMA"),
        "ic": UserFactory(username="iris", role=roles.INCIDENT_COMMANDER),
        "policy": runbook_policy(),
    }


def race(*calls: Callable[[], object]) -> list[BaseException]:
    """Run the calls at once, one thread and one database connection each; their errors."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return errors


def assert_no_deadlock(caplog: pytest.LogCaptureFixture, round_no: int) -> None:
    """The sweep swallows its own failures (it must go on with other timers), so a deadlock
    it lost shows only in its log, and as a failed attempt on the timer."""
    lost = [
        f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}"
        for r in caplog.records
        if "deadlock" in f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}".lower()
    ]
    assert lost == [], f"round {round_no}: {lost}"
    assert not Timer.objects.filter(attempts__gt=0).exists()


def _event(inc, action: str) -> TimelineEvent:
    return TimelineEvent.objects.get(incident=inc, kind="status_changed", data__action=action)


@pytest.mark.postgres
def test_acknowledging_while_the_sweep_fires_the_ack_deadline(org, caplog):
    ic = org["ic"]
    outcomes = {"breach first": 0, "ack first": 0}
    for i in range(ROUNDS):
        with clock.frozen(T0 - dt.timedelta(minutes=61)) as t:
            inc = incident(title=f"race {i}", severity_code="P1", actor=ic)
            timers_sweep()  # tier 1, paged on detection
            # The first-update clock is met, so the only breach possible is the ack deadline,
            # and it is the first timer the racing sweep takes.
            incident_note_add(incident=inc, actor=ic, message="Looking into checkout errors.")
            t.set(T0)

            errors = race(
                lambda inc=inc: incident_transition(
                    incident=inc.pk, action="acknowledge", actor=ic
                ),
                timers_sweep,
            )

            assert errors == [], f"round {i}: {errors!r}"
            assert_no_deadlock(caplog, i)
            inc.refresh_from_db()
            assert inc.status == Status.ACKNOWLEDGED, f"round {i}: the acknowledgement was lost"
            ack = _event(inc, "acknowledge")
            breaches = list(TimelineEvent.objects.filter(incident=inc, kind="sla_breached"))
            assert all(b.pk < ack.pk for b in breaches), f"round {i}: breach after the ack"
            assert len(breaches) <= 1 and inc.sla_breached == bool(breaches)
            repages = TimelineEvent.objects.filter(
                incident=inc, kind="escalated", data__reason__startswith="re-page"
            )
            assert all(e.pk < ack.pk for e in repages), f"round {i}: re-paged after the ack"
            assert repages.count() == len(breaches)
            # Nothing keyed on "still unacknowledged" may stay armed once acknowledged.
            assert not Timer.objects.filter(
                incident=inc,
                data__reason="ack_breach",
                fired_at__isnull=True,
                cancelled_at__isnull=True,
            ).exists()
            ack_timer = Timer.objects.get(incident=inc, kind="ack_deadline")
            assert bool(ack_timer.fired_at) == bool(breaches)
            assert bool(ack_timer.cancelled_at) != bool(breaches)
            outcomes["breach first" if breaches else "ack first"] += 1
            # What the sweep left behind is consistent: a later sweep breaches nothing more.
            timers_sweep()
    assert TimelineEvent.objects.filter(kind="sla_breached").count() == outcomes["breach first"]
    print(outcomes)


@pytest.mark.postgres
def test_resolving_while_the_sweep_fires_an_escalation(org, caplog):
    ic, em = org["ic"], org["em"]
    outcomes = {"paged first": 0, "resolved first": 0}
    for i in range(ROUNDS):
        with clock.frozen(T0) as t:
            inc = incident(title=f"race {i}", severity_code="P1", actor=ic)
            timers_sweep()  # tier 1, paged on detection
            for action in ("acknowledge", "investigate"):
                incident_transition(incident=inc.pk, action=action, actor=ic)
            incident_note_add(incident=inc, actor=ic, message="Rolling back the release.")
            t.set(T0 + dt.timedelta(minutes=61))  # tier 2 (P1: 1 hour) is due
            tier2 = Timer.objects.get(incident=inc, kind="escalation", data__tier=2)

            errors = race(
                lambda inc=inc: incident_transition(incident=inc.pk, action="resolve", actor=ic),
                timers_sweep,
            )

        assert errors == [], f"round {i}: {errors!r}"
        assert_no_deadlock(caplog, i)
        inc.refresh_from_db()
        assert inc.status == Status.RESOLVED, f"round {i}: the resolve was lost"
        resolved = _event(inc, "resolve")
        paged = list(TimelineEvent.objects.filter(incident=inc, kind="escalated", data__tier=2))
        assert all(e.pk < resolved.pk for e in paged), f"round {i}: paged after the resolve"
        pages = OutboxMessage.objects.filter(
            target="pagerduty.page_user", key__contains=f":esc:{tier2.pk}:"
        )
        tier2.refresh_from_db()
        if paged:
            assert [e.data["paged"] for e in paged] == [[em.pk]]
            assert pages.count() == 1 and tier2.fired_at is not None
            outcomes["paged first"] += 1
        else:
            assert pages.count() == 0 and tier2.cancelled_at is not None
            outcomes["resolved first"] += 1
    print(outcomes)
