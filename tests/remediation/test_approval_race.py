"""Approving a run races the approval-expiry sweep (issue 12 item 1, DESIGN.md rule 11).

Both sides run at once on real PostgreSQL connections, 50 times, with and without an incident.
The sweep's clock is at the deadline while the approver's click is still inside the window
(a worker and a web process never read exactly the same instant), so either may win.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from incidents.models import TimelineEvent
from nexusops.common import clock, roles
from nexusops.common.errors import Conflict
from nexusops.engine.models import Timer
from nexusops.engine.timers import timers_sweep
from remediation.models import ActionRun
from remediation.services import action_approve
from remediation.services.runs import APPROVAL_TIMER, awaiting_approval
from tests.factories import UserFactory, incident

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State
ROUNDS = 50


def _awaiting(requester, inc) -> tuple[ActionRun, Timer]:
    from django.db import transaction

    with transaction.atomic():
        run = ActionRun.objects.create(
            action="k8s.rollout_undo", params={"deployment": "api-gateway"}, dangerous=True,
            incident=inc, state=State.PREVIEWING, requested_by=requester,
            requested_at=clock.now(),
        )  # fmt: skip
        awaiting_approval(run, "Roll api-gateway back from revision 19 to revision 18.")
    timer = Timer.objects.get(kind=APPROVAL_TIMER, data__run=run.pk)
    # The sweep sees the deadline as reached; the approver's clock is a second before it.
    Timer.objects.filter(pk=timer.pk).update(due_at=clock.now())
    ActionRun.objects.filter(pk=run.pk).update(
        approval_expires_at=clock.now() + dt.timedelta(seconds=1)
    )
    return run, timer


def _race(run: ActionRun, approver) -> dict:
    outcome: dict = {"errors": []}
    barrier = threading.Barrier(2)

    def approve() -> None:
        try:
            barrier.wait(10)
            action_approve(run=run.pk, actor=approver)
            outcome["approved"] = True
        except Conflict as exc:
            outcome["conflict"] = exc
        except Exception as exc:  # noqa: BLE001 - a deadlock is what this test looks for
            outcome["errors"].append(exc)
        finally:
            connection.close()

    def sweep() -> None:
        try:
            barrier.wait(10)
            outcome["fired"] = timers_sweep()
        except Exception as exc:  # noqa: BLE001
            outcome["errors"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


@pytest.mark.parametrize("on_incident", [True, False], ids=["incident", "standalone"])
def test_approve_against_expiry_never_deadlocks_and_never_loses_the_approval(on_incident, caplog):
    requester = UserFactory(username="race-ic", role=roles.INCIDENT_COMMANDER)
    approver = UserFactory(username="race-mgr", role=roles.MANAGER)
    inc = incident() if on_incident else None
    seen = {"approved": 0, "expired": 0}
    with clock.frozen(clock.now()):
        for _ in range(ROUNDS):
            caplog.clear()
            run, timer = _awaiting(requester, inc)
            outcome = _race(run, approver)
            assert outcome["errors"] == [], outcome["errors"]
            # A handler that died (a deadlock victim) is logged by the sweep and stays due.
            assert "deadlock" not in caplog.text.lower(), caplog.text
            timer.refresh_from_db()
            assert timer.fired_at or timer.cancelled_at, "the approval timer is still due"
            run.refresh_from_db()
            kinds = list(
                TimelineEvent.objects.filter(data__run=run.pk, kind__in=(
                    "remediation_approved", "remediation_expired",
                )).values_list("kind", flat=True)
            ) if on_incident else []  # fmt: skip
            if outcome.get("approved"):
                assert run.state == State.QUEUED and run.decided_by_id == approver.pk
                assert not on_incident or kinds == ["remediation_approved"]
                seen["approved"] += 1
            else:
                # The approver was told, in words, that expiry won; nothing was run.
                assert outcome["conflict"].code == "approval_expired", outcome["conflict"]
                assert run.state == State.EXPIRED and run.decided_by_id is None
                assert not on_incident or kinds == ["remediation_expired"]
                seen["expired"] += 1
    assert seen["approved"] + seen["expired"] == ROUNDS
