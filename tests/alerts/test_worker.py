"""End to end with a real worker on the test broker: a webhook answered 202 becomes a group
and an incident without anyone calling the processing service; the sweep catches up on
events whose task never reached the broker."""

import pytest

from alerts.models import AlertEvent, AlertGroup
from alerts.tasks import alerts_sweep_task
from tests.support.worker import wait_for

from .conftest import T0, post
from .payloads import alertmanager, am_alert

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_webhook_is_processed_by_the_worker(client, tokens, now, celery_worker):
    response = post(
        client, "alertmanager", alertmanager(am_alert(starts=T0)), tokens["alertmanager"]
    )
    assert response.status_code == 202
    wait_for(
        lambda: AlertGroup.objects.filter(incident__isnull=False).exists(),
        timeout=30,
        message="the worker to process the alert",
    )
    assert not AlertEvent.objects.filter(processed_at__isnull=True).exists()


def test_the_sweep_processes_what_no_task_picked_up(tokens, now, celery_worker):
    from alerts.models import AlertSource
    from alerts.services import alert_events_record
    from alerts.services.parsers import parse_alertmanager

    source = AlertSource.objects.get(kind="alertmanager")
    parsed = parse_alertmanager(alertmanager(am_alert(starts=T0)), T0)
    AlertEvent.objects.bulk_create(
        [
            AlertEvent(
                source=source,
                event_key=p.event_key,
                fingerprint=p.fingerprint,
                status=p.status,
                at=p.at,
                data=p.data(),
                received_at=T0,
            )
            for p in parsed
        ]
    )
    assert alert_events_record  # the normal path queues a task; this row has none
    alerts_sweep_task.delay()
    wait_for(
        lambda: not AlertEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=30,
        message="the sweep to process the stranded event",
    )
    assert AlertGroup.objects.count() == 1
