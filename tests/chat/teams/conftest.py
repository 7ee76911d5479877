"""NEXUSOPS_CHAT naming Teams (alone, or beside Slack), its senders registered; tasks inline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat import senders
from chat.models import IncidentChatChannel
from nexusops.celery import app as celery_app
from nexusops.common import roles
from nexusops.engine.outbox import registry
from nexusops.integrations.teams.cards import summary_card
from nexusops.integrations.teams.client import TeamsClient
from nexusops.standins.control import StandinControl
from tests.factories import UserFactory, incident


def _chat(settings, value: str) -> None:
    settings.NEXUSOPS_CHAT = value
    # Only the chats under test talk: PagerDuty stays off.
    settings.PAGERDUTY_ROUTING_KEY = ""
    settings.PAGERDUTY_API_TOKEN = ""
    senders.register()


def _forget() -> None:
    for effect in senders.EFFECTS:  # the suite's other tests run with Slack alone
        registry._senders.pop(f"teams.{effect}", None)


@pytest.fixture
def teams_chat(settings, teams: StandinControl) -> Iterator[StandinControl]:
    """Teams alone as the chat (``NEXUSOPS_CHAT=teams``)."""
    settings.SLACK_BOT_TOKEN = ""
    _chat(settings, "teams")
    yield teams
    _forget()


@pytest.fixture
def slack_and_teams(settings, slack: StandinControl, teams: StandinControl):
    """``NEXUSOPS_CHAT=slack,teams``: each incident gets a channel in both."""
    _chat(settings, "slack,teams")
    yield slack, teams
    _forget()


@pytest.fixture
def inline_tasks() -> Iterator[None]:
    before = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def posts(control: StandinControl) -> list[dict]:
    """The bot's posts in Teams (not people's), oldest first."""
    found = control.state()["posts"].values()
    return sorted((p for p in found if not p.get("from_user")), key=lambda p: int(p["id"]))


def card_text(post: dict) -> str:
    """Every TextBlock and fact of a post's cards, as one string to search."""
    words: list[str] = []
    for card in post["cards"]:
        for element in card.get("body", []):
            words.append(str(element.get("text", "")))
            words += [f"{f['title']}: {f['value']}" for f in element.get("facts", [])]
    return "\n".join(words)


@pytest.fixture
def secrets(settings) -> None:
    """Outbound Slack and PagerDuty off, so only Teams is spoken to."""
    settings.SLACK_BOT_TOKEN = ""
    settings.PAGERDUTY_ROUTING_KEY = ""
    settings.PAGERDUTY_API_TOKEN = ""


@pytest.fixture
def iris(db):
    """The tenant's ic@nexus.example: an incident commander in the console."""
    return UserFactory(username="iris", email="ic@nexus.example", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def channel_with_card(teams, secrets):
    """An incident with its Teams channel and a summary card carrying Acknowledge / Resolve."""
    found = incident(title="Checkout errors")
    client = TeamsClient.default()
    channel = client.channel_create(f"incident-{found.number[4:].lower()}")
    card = summary_card(
        title=found.number,
        facts=[("Status", found.get_status_display())],
        actions=[("Acknowledge", "acknowledge"), ("Resolve", "resolve")],
        incident=found.number,
    )
    activity = client.post(channel.id, card=card)
    IncidentChatChannel.objects.create(
        incident=found, provider="teams", channel_id=channel.id, name=channel.name
    )
    return found, channel, activity
