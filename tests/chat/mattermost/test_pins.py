"""Pins from Mattermost through its WebSocket events API: the real listener
(``chat.inbound.mattermost_pins.PinListener``, the ``mattermost_listen`` command's loop) over a
real WebSocket to the stand-in. A person pins with their own token, as in Mattermost.

Transactional: the listener runs in a thread of its own, as it runs in a process of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from chat.inbound.mattermost_pins import PinListener
from chat.models import IncidentChatChannel
from incidents.models import TimelineEvent
from nexusops.common import roles
from nexusops.engine.models import InboundDelivery
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.standins.mattermost.words import TEAM_ID, user_token
from tests.factories import UserFactory, incident

from ..inbound.conftest import inline_tasks  # noqa: F401 - a fixture used below

pytestmark = pytest.mark.django_db(transaction=True)
IRIS_MM = "mmuseriris00000000000000ic"


@pytest.fixture
def iris():
    return UserFactory(
        username="iris", first_name="Iris", email="iris@nexus.example", role=roles.RESPONDER
    )


def _until(predicate: Callable[[], object], what: str, timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Running:
    """A listener in a thread, stopped (and its DB connection closed) on ``stop()``."""

    def __init__(self) -> None:
        self.listener = PinListener(backoff_base=0.05, backoff_max=0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.listener.run()
        finally:
            connection.close()

    def stop(self) -> None:
        self.listener.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def listen(mattermost, inline_tasks) -> Iterator[Callable[[], Running]]:  # noqa: F811
    started: list[Running] = []

    def start() -> Running:
        started.append(Running())
        return started[-1]

    yield start
    for running in started:
        running.listener.stop.set()
    for running in started:
        running.thread.join(timeout=10)


def _as_iris(mattermost) -> MattermostClient:
    return MattermostClient(mattermost.base_url, user_token("iris"), TEAM_ID)


def _incident_channel(iris) -> tuple[object, str]:
    """An incident whose Mattermost channel was set up through the outbox (tasks inline),
    with its summary pinned by the bot and iris invited (found by e-mail)."""
    inc = incident(actor=iris, commander=iris)
    row = _until(
        lambda: IncidentChatChannel.objects.filter(incident=inc, provider="mattermost").first(),
        "the incident's Mattermost channel",
    )
    return inc, row.channel_id  # type: ignore[attr-defined]


def _pin_notes(inc) -> list[TimelineEvent]:
    return list(
        TimelineEvent.objects.filter(incident=inc, message__startswith="Pinned in Mattermost")
    )


def test_a_pin_in_the_incident_channel_lands_on_the_timeline(mattermost, listen, iris):
    inc, channel = _incident_channel(iris)
    running = listen()
    assert running.listener.connected.wait(10), running.listener.last_error
    as_iris = _as_iris(mattermost)
    post = as_iris.post_create(channel, "Root cause: the consumer's lag alarm was muted")
    as_iris.post_pin(post)

    [note] = _until(lambda: _pin_notes(inc), "the pin on the timeline")  # type: ignore[misc]
    assert note.message == (
        "Pinned in Mattermost: a message by Iris: “Root cause: the consumer's lag alarm was muted”"
    )
    assert note.channel == "mattermost" and note.actor is None
    assert note.visibility == TimelineEvent.Visibility.INTERNAL
    # The bot's own pinned summary is not a person's pin.
    assert InboundDelivery.objects.filter(source="mattermost-pins").count() == 1


def test_a_pin_made_while_the_listener_is_down_is_caught_up_once(mattermost, listen, iris):
    inc, channel = _incident_channel(iris)
    first = listen()
    assert first.listener.connected.wait(10), first.listener.last_error
    first.stop()

    as_iris = _as_iris(mattermost)
    post = as_iris.post_create(channel, "Rolled back to 4.2.1")
    as_iris.post_pin(post)
    assert not _pin_notes(inc)  # nobody was listening

    second = listen()
    assert second.listener.connected.wait(10), second.listener.last_error
    assert len(_pin_notes(inc)) == 1  # caught up before it reported itself connected

    # Mattermost restarts: the listener reconnects, catches up again, and records nothing new;
    # pinning the post again is no new pin either.
    second.listener.connected.clear()
    assert mattermost.command("websocket_drop", {})["dropped"] >= 1
    _until(lambda: second.listener.connections >= 2, "the reconnect")
    as_iris.post_pin(post)
    later = as_iris.post_create(channel, "Marker")
    as_iris.post_pin(later)
    _until(lambda: len(_pin_notes(inc)) == 2, "the marker pin")
    assert [n.message for n in _pin_notes(inc)].count(
        "Pinned in Mattermost: a message by Iris: “Rolled back to 4.2.1”"
    ) == 1


def test_a_wrong_token_is_refused_and_nothing_is_heard(mattermost, listen, settings, iris):
    inc, channel = _incident_channel(iris)
    settings.MATTERMOST_TOKEN = "not-the-bot-token"
    running = listen()
    _until(lambda: "refused the token" in running.listener.last_error, "the refusal")
    as_iris = _as_iris(mattermost)
    as_iris.post_pin(as_iris.post_create(channel, "Pinned while refused"))
    time.sleep(0.3)
    assert running.listener.connections == 0 and not running.listener.connected.is_set()
    assert not [s for s in mattermost.state()["websockets"] if s["user_id"]]
    assert not _pin_notes(inc)


def test_pins_outside_incident_channels_are_ignored(mattermost, listen, iris):
    inc, channel = _incident_channel(iris)
    bot = MattermostClient.default()
    other = bot.channel_create("random-chatter", "Random chatter")
    bot.channel_add(other.id, [IRIS_MM])
    as_iris = _as_iris(mattermost)
    own = as_iris.channel_create("iris-scratch", "Iris's scratch")  # the bot is not in it

    running = listen()
    assert running.listener.connected.wait(10), running.listener.last_error
    as_iris.post_pin(as_iris.post_create(other.id, "Lunch at noon"))
    as_iris.post_pin(as_iris.post_create(own.id, "Private thoughts"))
    as_iris.post_pin(as_iris.post_create(channel, "After the others"))
    # Events arrive in order: once the last pin is recorded, the first two were seen.
    [note] = _until(lambda: _pin_notes(inc), "the incident channel's pin")  # type: ignore[misc]
    assert "After the others" in note.message
    assert TimelineEvent.objects.filter(message__contains="Lunch").count() == 0
    [bot_socket] = [s for s in mattermost.state()["websockets"] if s["user_id"]]
    # Only channel members hear a channel's events: the bot heard the random channel's pin and
    # the incident channel's, never the one in iris's own channel.
    assert bot_socket["sent"].count("post_edited") == 2
