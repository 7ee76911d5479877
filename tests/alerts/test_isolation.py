"""One group whose processing fails does not stop the others; it backs off, then dies
visibly, and a person can retry it (issue 12, item 7)."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.models import Alert, AlertEvent, AlertGroup, AlertProcessingFailure, AlertSource
from alerts.services import alerts_pending, alerts_process
from incidents.models import Incident
from nexusops.common import clock

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def generic(value, metric, *, service, key):
    return {
        "dedup_key": key,
        "title": f"{metric} on {service}",
        "service": service,
        "metric": metric,
        "value": value,
    }


def _poisoned_event(key: str = "poison-1") -> AlertEvent:
    """A recorded event whose value no column can hold (as an older parser wrote them):
    saving its alert raises, every time, for as long as the row stays like this."""
    source = AlertSource.objects.get(kind="generic")
    return AlertEvent.objects.create(
        source=source,
        event_key=key,
        fingerprint=key,
        status="firing",
        at=clock.now(),
        received_at=clock.now(),
        data={
            "title": "Queue depth on auth-service",
            "labels": {"service": "auth-service"},
            "value": "n/a",
            "metric": "",
        },
    )


def test_a_poisoned_group_does_not_stop_the_others(send, settings):
    settings.ALERTS_GROUP_BACKOFF_SECONDS = 30
    poisoned = _poisoned_event()
    send("generic", generic(7.5, "error_rate_percent", service="user-service", key="a"))
    send("generic", generic(75, "cpu_usage_percent", service="billing-service", key="b"))

    # Both healthy groups went through: an incident for the critical one, both alerts stored.
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {"a", "b"}
    assert Incident.objects.filter(services__slug="user-service").count() == 1
    poisoned.refresh_from_db()
    assert poisoned.processed_at is None and poisoned.group_key == "unmatched:auth-service"
    failure = AlertProcessingFailure.objects.get()
    assert failure.key == "unmatched:auth-service" and failure.attempts == 1
    assert failure.next_attempt_at == T0 + dt.timedelta(seconds=30) and not failure.dead
    assert "ValueError" in failure.last_error
    assert not AlertGroup.objects.filter(key="unmatched:auth-service").exists()  # rolled back
    assert not alerts_pending()  # the task does not spin on it


def test_a_failing_group_backs_off_then_is_dead_while_others_carry_on(send, now, settings):
    settings.ALERTS_GROUP_BACKOFF_SECONDS = 10
    settings.ALERTS_GROUP_MAX_ATTEMPTS = 3
    _poisoned_event()
    alerts_process()
    alerts_process()  # before its backoff: not tried again
    assert AlertProcessingFailure.objects.get().attempts == 1

    now.advance(seconds=10)
    alerts_process()
    failure = AlertProcessingFailure.objects.get()
    assert failure.attempts == 2 and failure.next_attempt_at == clock.now() + dt.timedelta(
        seconds=20
    )
    now.advance(seconds=20)
    alerts_process()
    failure.refresh_from_db()
    assert failure.attempts == 3 and failure.dead and failure.next_attempt_at is None

    # Dead: a new alert of the same group waits with it; every other group is processed.
    _poisoned_event("poison-2")
    send("generic", generic(93, "db_connections_percent", service="user-service", key="c"))
    now.advance(hours=2)
    alerts_process()
    assert Alert.objects.filter(fingerprint="c").exists()
    assert AlertEvent.objects.filter(processed_at__isnull=True).count() == 2
    failure.refresh_from_db()
    assert failure.attempts == 3 and failure.waiting_events() == 2


def test_a_dead_group_is_shown_and_retried_from_the_alerts_page(client, send, settings):
    from nexusops.common import roles
    from tests.factories import UserFactory

    settings.ALERTS_GROUP_MAX_ATTEMPTS = 1
    poisoned = _poisoned_event()
    alerts_process()
    failure = AlertProcessingFailure.objects.get()
    assert failure.dead

    client.force_login(UserFactory(username="rhea", role=roles.RESPONDER))
    page = client.get("/alerts/").content.decode()
    assert "Groups that failed to process" in page and "unmatched:auth-service" in page
    assert "ValueError" in page and f"/alerts/failures/{failure.pk}/retry/" in page

    # Someone repairs the row; Retry processes the waiting alert and the failure goes away.
    AlertEvent.objects.filter(pk=poisoned.pk).update(data={**poisoned.data, "value": 12})
    response = client.post(f"/alerts/failures/{failure.pk}/retry/")
    assert response.status_code == 302
    alerts_process()
    poisoned.refresh_from_db()
    assert poisoned.processed_at is not None
    assert Alert.objects.get(fingerprint="poison-1").value == 12
    assert not AlertProcessingFailure.objects.exists()


def test_a_stakeholder_cannot_retry(client, tokens, settings):
    from nexusops.common import roles
    from tests.factories import UserFactory

    settings.ALERTS_GROUP_MAX_ATTEMPTS = 1
    _poisoned_event()
    alerts_process()
    failure = AlertProcessingFailure.objects.get()
    client.force_login(UserFactory(username="sam", role=roles.STAKEHOLDER))
    assert client.post(f"/alerts/failures/{failure.pk}/retry/").status_code == 403
    failure.refresh_from_db()
    assert failure.dead


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_a_failing_attempt_is_never_lost(tokens, settings):
    """A person's Retry and the processing attempt that fails again meet on the failure row:
    whichever commits last, the group is left alive (never dead right after a Retry)."""
    import threading

    from django.db import connection

    from alerts.services import alert_processing_retry

    settings.ALERTS_GROUP_MAX_ATTEMPTS = 3
    settings.ALERTS_GROUP_BACKOFF_SECONDS = 30  # one attempt per race: the clock is frozen
    _poisoned_event()
    alerts_process()
    failure = AlertProcessingFailure.objects.get()
    errors: list[BaseException] = []
    for _ in range(50):
        # One attempt left: if the attempt overwrote the Retry, the group would die.
        AlertProcessingFailure.objects.filter(pk=failure.pk).update(
            attempts=2, dead_at=None, next_attempt_at=clock.now()
        )
        barrier = threading.Barrier(2)

        def run(call, barrier=barrier):  # noqa: ANN001
            try:
                barrier.wait()
                call()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=run, args=(alerts_process,)),
            threading.Thread(
                target=run, args=(lambda: alert_processing_retry(failure=failure.pk, actor=None),)
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        failure.refresh_from_db()
        assert not failure.dead, f"a Retry was lost: {failure.attempts} attempts"
        assert failure.attempts in (0, 1)


def test_a_dead_group_is_listed_and_retried_in_the_admin(admin_client, tokens, settings):
    settings.ALERTS_GROUP_MAX_ATTEMPTS = 1
    _poisoned_event()
    alerts_process()
    failure = AlertProcessingFailure.objects.get()

    listing = admin_client.get("/admin/alerts/alertprocessingfailure/")
    assert listing.status_code == 200 and "unmatched:auth-service" in listing.content.decode()
    response = admin_client.post(
        "/admin/alerts/alertprocessingfailure/",
        {"action": "retry", "_selected_action": [failure.pk]},
    )
    assert response.status_code == 302
    failure.refresh_from_db()
    assert not failure.dead and failure.attempts == 0 and failure.next_attempt_at == clock.now()
