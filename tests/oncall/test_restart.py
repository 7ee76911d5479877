"""Beat and worker stopped past a due time, then started: the escalation fires late, once."""

import datetime as dt
import time

import pytest

from incidents.models import TimelineEvent
from nexusops.common import roles
from nexusops.engine.models import Timer
from nexusops.engine.tasks import timers_sweep_task
from oncall.models import Rotation, RotationMember
from tests.factories import UserFactory, incident
from tests.support.worker import WorkerProcess, wait_for

from .conftest import person, runbook_policy


@pytest.mark.django_db(transaction=True)
def test_escalation_due_while_stopped_fires_at_restart(slack):
    oncall = person("olga", slack="U0OLGA", role=roles.RESPONDER)
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2020, 1, 3))
    RotationMember.objects.create(rotation=rotation, user=oncall, position=0)
    runbook_policy()
    inc = incident(
        severity_code="P2", actor=UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    )
    timer = Timer.objects.get(incident=inc, kind="escalation")
    assert timer.due_at <= inc.detected_at  # due already; nothing is running to fire it
    time.sleep(1.5)
    assert not TimelineEvent.objects.filter(incident=inc, kind="escalated").exists()
    # Slack on in the worker too: Olga is reached by her Slack invitation, nothing else.
    worker = WorkerProcess(extra_env=slack.env).start()
    try:
        timers_sweep_task.delay()  # beat's first tick after the restart
        wait_for(
            lambda: TimelineEvent.objects.filter(incident=inc, kind="escalated").exists(),
            timeout=60,
            message="the overdue escalation to fire",
        )
        timers_sweep_task.delay()
        time.sleep(1)
    finally:
        worker.stop()
    timer.refresh_from_db()
    assert timer.fired_at is not None and timer.fired_at > timer.due_at
    assert TimelineEvent.objects.filter(incident=inc, kind="escalated").count() == 1
