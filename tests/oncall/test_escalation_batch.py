"""A batch of escalation firings writes its rows set-wise (issue 15, item 2): the same rows,
in each channel's order, as firing one by one; a key found taken rolls the batch back and
its timers fire one by one; the invitations reach the broker only after the batch commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident, TimelineEvent
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import State, outbox_deliver
from nexusops.engine.timers import timers_sweep
from oncall.models import Rotation, RotationMember
from tests.factories import incident
from tests.support.outbox import deliver_due

from .conftest import person, runbook_policy

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
SENT = (0, 2)  # these incidents' channels are set up; the others' set-up is still pending


@pytest.fixture
def backlog(db, settings, slack):
    """Four P2 incidents whose tier 1 (Olga, on call, Slack only) is due. Incidents 0 and 2
    have their Slack channel (the set-up was sent); 1 and 3 still wait for it."""
    settings.PAGERDUTY_SERVICE_ID = ""
    olga = person("olga", slack="U0OLGA")
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=olga, position=0)
    runbook_policy()
    with clock.frozen(T0):
        incidents = [incident(title=f"batch {i}", severity_code="P2") for i in range(4)]
        for i in SENT:  # the channel is made in the Slack stand-in, as a worker would
            setup = OutboxMessage.objects.get(target="slack.channel_setup", incident=incidents[i])
            assert outbox_deliver(message_id=setup.pk) == "sent"
    timers = {
        t.incident_id: t
        for t in Timer.objects.filter(kind="escalation", fired_at__isnull=True, due_at__lte=T0)
    }
    assert set(timers) == {i.pk for i in incidents}
    return {"olga": olga, "incidents": incidents, "timers": timers}


def _sweep() -> tuple[int, list[str]]:
    with clock.frozen(T0 + dt.timedelta(seconds=30)):
        with CaptureQueriesContext(connection) as queries:
            fired = timers_sweep()
    return fired, [q["sql"] for q in queries.captured_queries]


def _assert_each_fired_once_in_channel_order(backlog) -> None:
    """What firing one by one has always written, incident by incident."""
    olga = backlog["olga"]
    for n, inc in enumerate(backlog["incidents"]):
        inc = Incident.objects.get(pk=inc.pk)
        timer = backlog["timers"][inc.pk]
        (entry,) = TimelineEvent.objects.filter(incident=inc, kind="escalated")
        invite = OutboxMessage.objects.get(key=f"{inc.number}:esc:{timer.pk}:{olga.pk}:slack")
        mirror = OutboxMessage.objects.get(key=f"{inc.number}:{entry.pk}:slack-mirror")
        # The timeline names the row behind its words (rule 13).
        assert entry.message.startswith("Escalated to tier 1 (On-call engineer): invited Olga")
        assert entry.data["paged"] == [olga.pk]
        assert entry.data["pages"] == [{"user": olga.pk, "via": "slack", "outbox": invite.pk}]
        assert entry.data["timer"] == timer.pk
        # Each channel's order: the invitation after the channel's set-up if that is still
        # pending (this incident's, never another's), the mirror after the invitation.
        setup = OutboxMessage.objects.get(incident=inc, target="slack.channel_setup")
        if n in SENT:
            assert invite.depends_on_id is None and invite.state == State.PENDING
        else:
            assert invite.depends_on_id == setup.pk and invite.state == State.WAITING
        assert mirror.depends_on_id == invite.pk and mirror.state == State.WAITING
        assert "Escalated to tier 1" in mirror.payload["text"]
        assert invite.payload == {"users": ["U0OLGA"]}
        assert list(inc.responders.all()) == [olga]
        # The live view's pointer names the newest entry.
        newest = TimelineEvent.objects.filter(incident=inc).order_by("-pk").first()
        assert inc.last_event_id == entry.pk == newest.pk
        assert Timer.objects.get(pk=timer.pk).fired_at == T0 + dt.timedelta(seconds=30)


@pytest.mark.parametrize("batch", [25, 1], ids=["batch", "one-by-one"])
def test_a_batch_writes_what_firing_one_by_one_writes(backlog, settings, batch):
    settings.TIMERS_SWEEP_BATCH = batch

    fired, statements = _sweep()

    assert fired == 4
    _assert_each_fired_once_in_channel_order(backlog)
    # INSERT OR IGNORE INTO on SQLite
    inserts = [s for s in statements if s.startswith("INSERT") and '"incidents_outboxmessage"' in s]
    if connection.vendor != "postgresql":  # no sequences to take ids from: rows go at once
        assert len(inserts) == 8
    elif batch > 1:
        # Set-wise: one statement per table for the whole batch, one read of the channels.
        assert len(inserts) == 1
        assert sum(s.startswith('INSERT INTO "incidents_timelineevent"') for s in statements) == 1
        assert sum(s.startswith('UPDATE "incidents_incident"') for s in statements) == 1
        assert sum("slack.channel_setup" in s for s in statements) == 1
    else:
        assert len(inserts) == 8  # an invitation and a mirror per firing


def test_a_taken_key_rolls_the_batch_back_and_each_fires_alone(backlog, caplog):
    """Incident 1's invitation key exists already (as if that firing had run before): the
    batch cannot write it as new, rolls back, and each timer fires in its own transaction,
    where the earlier message is the one the timeline names. Nothing is written twice.
    (Without held rows, on SQLite, the batch finds the earlier message itself.)"""
    olga, inc = backlog["olga"], backlog["incidents"][1]
    timer = backlog["timers"][inc.pk]
    key = f"{inc.number}:esc:{timer.pk}:{olga.pk}:slack"
    earlier = OutboxMessage.objects.create(
        key=key, target="slack.invite", incident=inc, payload={"users": ["U0OLGA"]},
        state=State.SENT, sent_at=T0, next_attempt_at=T0, created_at=T0,
    )  # fmt: skip

    with caplog.at_level(logging.INFO, logger="nexusops.engine.timers"):
        fired, _ = _sweep()

    assert fired == 4
    assert ("firing it one by one" in caplog.text) == (connection.vendor == "postgresql")
    assert OutboxMessage.objects.filter(key=key).count() == 1
    for other in backlog["incidents"]:
        assert TimelineEvent.objects.filter(incident=other, kind="escalated").count() == 1
        assert OutboxMessage.objects.filter(incident=other, target="slack.invite").count() == 1
        assert OutboxMessage.objects.filter(incident=other, target="slack.post").count() == 1
    entry = TimelineEvent.objects.get(incident=inc, kind="escalated")
    assert entry.data["pages"] == [{"user": olga.pk, "via": "slack", "outbox": earlier.pk}]


@pytest.fixture
def notifications():
    if not django_settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("reads the messages in a Redis queue")
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete("notifications")
    yield client
    client.delete("notifications")


def _queued_ids(client) -> list[int]:
    ids = []
    for raw in client.lrange("notifications", 0, -1):
        body = json.loads(base64.b64decode(json.loads(raw)["body"]))
        ids.append(body[0][0])
    return ids


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_held_invitations_reach_the_broker_after_the_batch_commits(backlog, notifications):
    """The messages the batch wrote set-wise are dispatched once it commits: each invitation
    that waits for nothing, by the id it has in the table; the waiting ones stay for their
    prerequisite."""
    fired, _ = _sweep()

    assert fired == 4
    _assert_each_fired_once_in_channel_order(backlog)
    ready = OutboxMessage.objects.filter(target="slack.invite", state=State.PENDING)
    assert sorted(_queued_ids(notifications)) == sorted(ready.values_list("pk", flat=True))
    assert ready.count() == len(SENT)


def test_what_a_batch_wrote_is_delivered_in_each_channel_s_order(
    backlog, settings, slack, pagerduty
):
    """Olga reachable through PagerDuty and Slack: three messages per firing (so the batch
    takes more ids than its first block). Delivered as workers would, each incident's
    channel is set up, Olga is invited and the timeline line is posted there, and each
    incident opened one PagerDuty page assigned to her."""
    settings.PAGERDUTY_SERVICE_ID = "PSVC001"
    olga = backlog["olga"]
    olga.profile.pagerduty_user_id = "POLGA01"
    olga.profile.save(update_fields=["pagerduty_user_id"])

    fired, _ = _sweep()
    with clock.frozen(T0 + dt.timedelta(seconds=31)):
        states = deliver_due()

    unsent = OutboxMessage.objects.exclude(state=State.SENT)
    assert fired == 4 and states
    assert not unsent.exists(), [(m.key, m.state, m.last_error) for m in unsent]
    pages = [i for i in pagerduty.state()["incidents"] if ":esc:" in i["incident_key"]]
    assert len(pages) == 4
    for inc in backlog["incidents"]:
        inc.refresh_from_db()
        entry = TimelineEvent.objects.get(incident=inc, kind="escalated")
        assert [p["via"] for p in entry.data["pages"]] == ["pagerduty", "slack"]
        assert not OutboxMessage.objects.filter(incident=inc).exclude(state=State.SENT).exists()
        workspace = slack.state()
        assert "U0OLGA" in workspace["channels"][inc.slack_channel_id]["members"]
        said = [m.get("text", "") for m in workspace["messages"][inc.slack_channel_id].values()]
        assert any("Escalated to tier 1" in text for text in said), said
        assert TimelineEvent.objects.filter(incident=inc, kind="slack_invited").exists()
