from __future__ import annotations

import datetime as dt
import json

import pytest

from alerts import seed
from alerts.models import AlertSource
from alerts.services import alert_source_create, alerts_process
from nexusops.common import clock
from tests.factories import ServiceFactory, severities

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SERVICES = ("api-gateway", "user-service", "auth-service", "billing-service")
CHANNEL_NAME = "nexus-alerts"


@pytest.fixture(autouse=True)
def _no_cached_sources():
    from alerts.services.sources import sources_cache_clear

    sources_cache_clear()
    yield
    sources_cache_clear()


@pytest.fixture
def now():
    with clock.frozen(T0) as handle:
        yield handle


@pytest.fixture
def catalog(db):
    severities()
    for slug in SERVICES:
        ServiceFactory(slug=slug)
    seed.seed_rules(lambda line: None)


@pytest.fixture
def tokens(catalog) -> dict[str, str]:
    out = {}
    for kind in AlertSource.Kind.values:
        _, token = alert_source_create(name=f"test {kind}", kind=kind, actor=None)
        out[kind] = token
    return out


@pytest.fixture
def alerts_channel(settings, slack):
    """The alerts channel, created in the Slack stand-in; ``.channel_id`` is its id."""
    from nexusops.integrations.slack.client import SlackClient

    slack.channel_id = SlackClient.default().channel_create(CHANNEL_NAME).id
    settings.SLACK_ALERTS_CHANNEL = slack.channel_id
    return slack


def post(client, kind: str, body, token: str | None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        f"/api/alerts/{kind}/",
        data=data,
        content_type=extra.pop("content_type", "application/json"),
        **headers,
        **extra,
    )


@pytest.fixture
def send(client, tokens):
    """POST a body to an endpoint with its token, then run the processing task's service."""

    def _send(kind: str, body, *, process: bool = True, expect: int = 202):
        response = post(client, kind, body, tokens[kind])
        assert response.status_code == expect, response.content
        if process:
            alerts_process()
        return response

    return _send
