"""DR drills (runbook 4.4): the timed procedure, its evidence, RTO/RPO, quarterly schedule,
reminders through the outbox and timers through the engine's sweep, on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from drills import services
from drills.models import Drill, DrillEvidence, DrillStep
from drills.seed import seed_drills
from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.timers import timers_sweep
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def people():
    return {
        "manager": UserFactory(username="maya", role=roles.MANAGER),
        "ic": UserFactory(username="iris", role=roles.INCIDENT_COMMANDER),
        "responder": UserFactory(username="ravi", role=roles.RESPONDER),
    }


@pytest.fixture
def planned(people):
    with clock.frozen(T0 - dt.timedelta(days=30)):
        seed_drills(lambda _: None)
        return Drill.objects.get(state=Drill.State.PLANNED)


def _pending(drill: Drill, kind: str) -> list[Timer]:
    return list(
        Timer.objects.filter(
            kind=kind, data__drill=drill.pk, fired_at__isnull=True, cancelled_at__isnull=True
        )
    )


def _evidence(step: DrillStep, who) -> None:
    services.drill_evidence_add(step=step, actor=who, kind="text", text=f"did {step.order}")


def _run_all(drill: Drill, who, *, recovered_after: int, backup_age: int) -> Drill:
    with clock.frozen(T0) as at:
        drill = services.drill_start(drill=drill, actor=who)
        for step in drill.steps.order_by("order"):
            _evidence(step, who)
            if step.marks == "recovered":
                at.set(T0 + dt.timedelta(minutes=recovered_after))
            services.drill_step_complete(
                step=step, actor=who, recovery_point=T0 - dt.timedelta(minutes=backup_age)
            )
        at.advance(minutes=5)
        return services.drill_complete(drill=drill, actor=who)


def test_the_seed_plans_a_quarterly_drill_with_its_reminder(planned):
    assert planned.rto_minutes == 60 and planned.rpo_minutes == 5
    assert planned.scheduled_for == services.add_months(T0 - dt.timedelta(days=30), 3)
    assert [t.due_at for t in _pending(planned, services.DUE)] == [planned.scheduled_for]
    assert [t.due_at for t in _pending(planned, services.REMINDER)] == [
        planned.scheduled_for - dt.timedelta(days=7)
    ]


def test_a_drill_within_objectives_is_measured_and_the_next_one_planned(planned, people):
    drill = _run_all(planned, people["ic"], recovered_after=48, backup_age=3)

    assert drill.state == Drill.State.COMPLETED
    assert drill.recovery_time == dt.timedelta(minutes=48) and drill.rto_met is True
    assert drill.data_loss == dt.timedelta(minutes=3) and drill.rpo_met is True
    assert "Recovered in 48.0 min (RTO 60 min: met)" in drill.summary
    assert not Timer.objects.filter(
        data__drill=drill.pk, fired_at__isnull=True, cancelled_at__isnull=True
    ).exists()
    following = Drill.objects.get(state=Drill.State.PLANNED)
    assert following.scheduled_for == services.add_months(drill.scheduled_for, 3)
    mail = OutboxMessage.objects.get(key=f"drill{drill.pk}:completed")
    assert mail.payload["to"] == ["maya@nexus.example"]
    assert "passed" in mail.payload["subject"]


def test_a_slow_recovery_and_an_old_backup_miss_rto_and_rpo(planned, people):
    drill = _run_all(planned, people["ic"], recovered_after=75, backup_age=12)

    assert (drill.rto_met, drill.rpo_met) == (False, False)
    assert "MISSED" in drill.summary
    assert (
        "FAILED" in OutboxMessage.objects.get(key=f"drill{drill.pk}:completed").payload["subject"]
    )


def test_timers_remind_and_chase_through_the_sweep(planned, people):
    with clock.frozen(planned.scheduled_for - dt.timedelta(days=7, seconds=-1)):
        assert timers_sweep() == 1
    assert OutboxMessage.objects.filter(key__startswith=f"drill{planned.pk}:reminder").count() == 1
    with clock.frozen(T0):
        drill = services.drill_start(drill=planned, actor=people["ic"])
        first = drill.steps.get(order=1)
        services.drill_step_assign(step=first, owner=people["responder"], actor=people["ic"])
    assert _pending(drill, services.DUE) == [] and _pending(drill, services.REMINDER) == []
    with clock.frozen(first.due_at + dt.timedelta(seconds=1)):
        assert timers_sweep() == 1
    overdue = OutboxMessage.objects.get(key=f"drill{drill.pk}:step:{first.pk}:overdue")
    assert "ravi@nexus.example" in overdue.payload["to"]
    with clock.frozen(T0 + dt.timedelta(minutes=61)):
        timers_sweep()
    assert OutboxMessage.objects.filter(key=f"drill{drill.pk}:rto").exists()


def test_a_completed_step_is_not_chased(planned, people):
    with clock.frozen(T0):
        drill = services.drill_start(drill=planned, actor=people["ic"])
        first = drill.steps.get(order=1)
        _evidence(first, people["ic"])
        services.drill_step_complete(step=first, actor=people["ic"])
    with clock.frozen(first.due_at + dt.timedelta(seconds=1)):
        timers_sweep()
    assert not OutboxMessage.objects.filter(key__contains=f"step:{first.pk}").exists()


def test_evidence_kinds_and_bad_input_change_nothing(planned, people):
    ic = people["ic"]
    with clock.frozen(T0):
        drill = services.drill_start(drill=planned, actor=ic)
    step = drill.steps.get(order=3)
    services.drill_evidence_add(step=step, actor=ic, kind="link", url="https://ci.example/run/7")
    services.drill_evidence_add(
        step=step, actor=ic, kind="file", file_name="smoke.log", content=b"ok 12/12"
    )
    for bad in (
        {"kind": "link", "url": "javascript:alert(1)"},
        {"kind": "text", "text": "   "},
        {"kind": "file", "file_name": "big.bin", "content": b"x" * (2 * 1024 * 1024 + 1)},
        {"kind": "video"},
    ):
        with pytest.raises(ApplicationError):
            services.drill_evidence_add(step=step, actor=ic, **bad)
    assert list(step.evidence.values_list("kind", flat=True)) == ["link", "file"]
    assert bytes(DrillEvidence.objects.get(kind="file").content) == b"ok 12/12"

    empty = drill.steps.get(order=1)
    with pytest.raises(ApplicationError, match="Attach evidence"):
        services.drill_step_complete(step=empty, actor=ic)
    with clock.frozen(T0), pytest.raises(ApplicationError, match="recovery point"):
        services.drill_step_complete(step=step, actor=ic)  # step 3 needs its recovery point
    with clock.frozen(T0), pytest.raises(ApplicationError, match="future"):
        services.drill_step_complete(
            step=step, actor=ic, recovery_point=T0 + dt.timedelta(minutes=1)
        )
    with pytest.raises(ApplicationError, match="not complete"):
        services.drill_complete(drill=drill, actor=ic)
    drill.refresh_from_db()
    assert drill.recovery_point_at is None and drill.state == Drill.State.RUNNING
    assert not drill.steps.filter(completed_at__isnull=False).exists()


def test_roles_and_states(planned, people):
    with pytest.raises(ApplicationError) as refused:
        services.drill_start(drill=planned, actor=people["responder"])
    assert refused.value.status == 403
    with clock.frozen(T0):
        services.drill_start(drill=planned, actor=people["manager"])
        with pytest.raises(Conflict):
            services.drill_start(drill=planned, actor=people["manager"])
    with clock.frozen(T0), pytest.raises(ApplicationError, match="within the last 24 hours"):
        services.drill_schedule(scheduled_for=T0 + dt.timedelta(days=1), actor=people["ic"])
        other = Drill.objects.get(state=Drill.State.PLANNED)
        services.drill_start(drill=other, actor=people["ic"], failure_at=T0 + dt.timedelta(1))
