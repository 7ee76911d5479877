"""Pins in Mattermost incident channels, onto the incident's timeline: the pin listener.

Mattermost's outgoing webhooks fire on posts only, so a pin is read from its WebSocket events
API (``nexusops.integrations.mattermost.events``): a ``post_edited`` event whose post has
``is_pinned: true``. The listener is its own long-running process
(``manage.py mattermost_listen``): it connects as the bot, and on every (re)connect first
catches up with each open incident channel's pinned posts (``GET /channels/{id}/pinned``), so
a pin made while it was down is recorded too. A lost connection is retried with backoff.

A pin goes the way a Slack pin does (``views.slack_events``): one ``note`` action handed to
``inbound_action_task`` through ``_action_enqueue``, keyed by the post's id, so a post pinned,
seen live, caught up again after a reconnect and pinned again is recorded once. Mattermost does
not say who pinned, so the note is the system's, naming whose message it was; the bot's own
posts (the pinned summary) are never recorded.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, close_old_connections

from chat.models import IncidentChatChannel
from incidents.models import Incident, Status
from nexusops.common.services import actor_name
from nexusops.integrations.errors import IntegrationError, VendorRejected
from nexusops.integrations.mattermost.client import KEY_PROP, MattermostClient
from nexusops.integrations.mattermost.events import MattermostEvents, post_of

from .mattermost import user_for_mattermost
from .views import _action_enqueue

logger = logging.getLogger(__name__)
SOURCE = "mattermost-pins"
EXCERPT = 200


class BrokerDown(Exception):
    """A pin could not be handed to the task broker; a reconnect catches it up."""


def incident_for_mattermost_channel(channel_id: str) -> Incident | None:
    row = (
        IncidentChatChannel.objects.select_related("incident")
        .filter(provider="mattermost", channel_id=channel_id)
        .first()
        if channel_id
        else None
    )
    return row.incident if row else None


def _excerpt(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def pin_record(post: dict[str, Any], *, own_user_id: str) -> str:
    """Record one pinned post on its incident's timeline (once); returns what was done.

    Raises :class:`BrokerDown` when the note could not be queued (nothing was recorded)."""
    post_id = str(post.get("id") or "")
    if not post_id or not post.get("is_pinned"):
        return "not a pin"
    author = str(post.get("user_id") or "")
    if (own_user_id and author == own_user_id) or KEY_PROP in (post.get("props") or {}):
        return "our own post"
    incident = incident_for_mattermost_channel(str(post.get("channel_id") or ""))
    if incident is None:
        return "not an incident channel"
    person = user_for_mattermost(author) if author else None
    whose = actor_name(person) if person is not None else "a Mattermost user"
    excerpt = _excerpt(str(post.get("message") or ""))
    note = f"Pinned in Mattermost: a message by {whose}" + (f": “{excerpt}”" if excerpt else "")
    queued = _action_enqueue(
        SOURCE,
        post_id,
        action="note",
        params={"incident": incident.pk, "text": note, "internal": True, "channel": "mattermost"},
        user=None,
    )
    if queued is None:
        raise BrokerDown(f"the pin of {post_id} could not be queued")
    return "recorded" if queued else "recorded before"


def pins_catch_up(client: MattermostClient, *, own_user_id: str) -> int:
    """Record the pinned posts of every incident channel not yet closed; returns how many
    were new. A channel Mattermost refuses (archived, the bot removed) is skipped."""
    rows = IncidentChatChannel.objects.filter(provider="mattermost").exclude(
        incident__status=Status.CLOSED
    )
    recorded = 0
    for channel_id in rows.values_list("channel_id", flat=True):
        try:
            posts = client.pinned_posts(channel_id)
        except VendorRejected as exc:
            logger.info("pins of %s not read: %s", channel_id, exc)
            continue
        for post in reversed(posts):  # oldest first: the timeline keeps their order
            recorded += pin_record(post, own_user_id=own_user_id) == "recorded"
    return recorded


def backoff_seconds(failures: int, *, base: float, ceiling: float) -> float:
    """Exponential, capped, with jitter so many listeners do not reconnect in step."""
    return random.uniform(0.5, 1.0) * min(ceiling, base * 2 ** max(0, failures - 1))


class PinListener:
    """Listens until ``stop`` is set; each connection catches up first, then follows events.
    Mattermost, the broker or the database being away ends the connection; it is retried.

    ``connections`` counts successful connections; ``last_error`` says why the latest ended
    (the command logs it; tests read it)."""

    def __init__(
        self,
        *,
        events: Callable[[], MattermostEvents] = MattermostEvents.default,
        client: Callable[[], MattermostClient] = MattermostClient.default,
        stop: threading.Event | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        self.events = events
        self.client = client
        self.stop = stop or threading.Event()
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.connections = 0
        self.connected = threading.Event()
        self.last_error = ""
        self._failures = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._session()
            except (IntegrationError, BrokerDown, DatabaseError) as exc:
                self.last_error = str(exc)
                logger.warning("Mattermost pin listener: %s", exc)
                if isinstance(exc, VendorRejected):  # a refused token: asking again soon is futile
                    self._failures = max(self._failures, 16)
            finally:
                self.connected.clear()
                close_old_connections()
            self._failures += 1
            self.stop.wait(
                backoff_seconds(self._failures, base=self.backoff_base, ceiling=self.backoff_max)
            )

    def _session(self) -> None:
        stream = self.events()
        stream.connect()
        try:
            client = self.client()
            own = client.me()
            close_old_connections()
            caught = pins_catch_up(client, own_user_id=own)
            self.connections += 1
            self._failures = 0
            self.connected.set()
            logger.info("Mattermost pin listener connected; %d pin(s) caught up", caught)
            while not self.stop.is_set():
                event = stream.next_event(wait=1.0)
                if event is None or event.get("event") != "post_edited":
                    continue
                post = post_of(event)
                if post is None:
                    continue
                close_old_connections()
                outcome = pin_record(post, own_user_id=own)
                logger.info("post %s: %s", post.get("id"), outcome)
        finally:
            stream.close()
