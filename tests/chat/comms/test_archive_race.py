"""Closing schedules the Slack channel's archive; the archive must never land on an open
incident (DESIGN.md rule 11: the sender re-checks the incident under its lock).

The lifecycle keeps ``closed`` final today, so "reopen" here is what any change that opens a
closed incident does under the incident's lock (the lock order every service follows): the
sender must decide and archive while no such change can commit.
"""

import threading

import pytest
from django.db import connection, transaction

from incidents.models import Incident, Status
from incidents.services.common import bump, lock
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver, outbox_enqueue
from nexusops.integrations.slack.client import SlackClient
from tests.factories import incident, severities

ROUNDS = 50


def _closed_incident_with_channel(settings, name: str) -> Incident:
    url, settings.SLACK_API_URL = settings.SLACK_API_URL, ""  # declared quietly
    try:
        inc = incident(title=name, severity_code="P3")
    finally:
        settings.SLACK_API_URL = url
    channel = SlackClient.default().channel_create(name).id
    Incident.objects.filter(pk=inc.pk).update(
        status=Status.CLOSED, closed_at=clock.now(), slack_channel_id=channel
    )
    inc.refresh_from_db()
    return inc


def _reopen(inc: Incident) -> None:
    with transaction.atomic():
        locked = lock(inc)
        locked.status, locked.closed_at = Status.INVESTIGATING, None
        bump(locked, "status", "closed_at")


def _archived(slack, channel_id: str) -> bool:
    return slack.state()["channels"][channel_id]["is_archived"]


def _race_round(settings, slack, n: int) -> bool:
    """One archive delivery against one reopen; True if the archive landed after the reopen."""
    inc = _closed_incident_with_channel(settings, f"incident-race-{n}")
    archive = outbox_enqueue(
        target="slack.archive",
        key=f"{inc.number}:race-archive",
        incident=inc,
        payload={"closed_at": inc.closed_at.isoformat()},
    ).message
    # Slack takes a moment to archive: a reopen committing meanwhile is the race.
    slack.inject(latency_ms=50, times=1)
    barrier = threading.Barrier(2)
    seen: dict[str, bool] = {}
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            outbox_deliver(message_id=archive.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def reopen() -> None:
        try:
            barrier.wait(timeout=10)
            _reopen(inc)
            # Whatever archive is going to happen must have happened by now.
            seen["at_reopen"] = _archived(slack, inc.slack_channel_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver), threading.Thread(target=reopen)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert Incident.objects.get(pk=inc.pk).status == Status.INVESTIGATING
    assert OutboxMessage.objects.get(pk=archive.pk).state == "sent"
    return _archived(slack, inc.slack_channel_id) and not seen["at_reopen"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reopen_racing_the_archive_never_leaves_an_open_incident_archived(settings, slack):
    severities()
    late = [n for n in range(ROUNDS) if _race_round(settings, slack, n)]
    assert late == []  # rounds where the channel was archived after the incident reopened


@pytest.mark.django_db
def test_an_archive_scheduled_by_an_earlier_close_skips(settings, slack):
    severities()
    inc = _closed_incident_with_channel(settings, "incident-closed-twice")
    earlier = outbox_enqueue(
        target="slack.archive",
        key=f"{inc.number}:first-close-archive",
        incident=inc,
        payload={"closed_at": "2026-01-01T00:00:00+00:00"},  # a close before a reopen
    ).message
    assert outbox_deliver(message_id=earlier.pk) == "sent"
    earlier.refresh_from_db()
    assert "closed again" in earlier.result["skipped"]
    assert not _archived(slack, inc.slack_channel_id)
