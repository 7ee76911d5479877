"""Each vendor stand-in runs once per test session in a thread on a free port; every test
starts from a reset stand-in and points the adapters at it through Django settings.

Loaded for the whole suite by the root conftest (``pytest_plugins``). Each control object has
an ``env`` dict: the same configuration as environment variables, for a worker process.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from nexusops.standins import pagerduty as pagerduty_standin
from nexusops.standins import slack as slack_standin
from nexusops.standins import statuspage as statuspage_standin
from nexusops.standins.common import StandinServer, run_in_thread
from nexusops.standins.control import StandinControl

SLACK_TOKEN = "xoxb-test-token"
PAGERDUTY_ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
PAGERDUTY_API_TOKEN = "y_NbAkKc66ryYTWUXYEu"
PAGERDUTY_FROM = "ic@nexusops.example"
STATUSPAGE_KEY = "sp-key-0001"
STATUSPAGE_PAGE = "nexuspage01"
# People the test workspace knows besides the demo's (the suite's profiles use these ids).
# Any other id is unknown to the strict stand-in, as it would be to Slack.
SLACK_TEST_USERS = [
    {"id": user_id, "name": user_id[2:].lower(), "email": f"{user_id[2:].lower()}@slack.example"}
    for user_id in (
        "U0ALICE",
        "U0BOB",
        "U0SAM",
        "U0IRIS",
        "U0OLGA",
        "U0EMMA",
        "U0CLEO",
        "U01AAA",
        "U02BBB",
    )
]
# Slack's per-minute limits, applied per second: a flood still sees 429, a test stays fast.
SLACK_RATE_WINDOW = 1.0


def _serve(server: StandinServer) -> Iterator[StandinServer]:
    run_in_thread(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def _slack_server() -> Iterator[StandinServer]:
    server, _ = slack_standin.make_server(rate_window=SLACK_RATE_WINDOW)
    yield from _serve(server)


@pytest.fixture(scope="session")
def _pagerduty_server(tmp_path_factory) -> Iterator[tuple[StandinServer, str]]:
    ca_path = tmp_path_factory.mktemp("pagerduty") / "standin-ca.pem"
    server, _ = pagerduty_standin.make_server(ca_path=ca_path)
    for served in _serve(server):
        yield served, str(ca_path)


@pytest.fixture(scope="session")
def _statuspage_server() -> Iterator[StandinServer]:
    server, _ = statuspage_standin.make_server()
    yield from _serve(server)


@pytest.fixture
def slack(settings, _slack_server) -> StandinControl:
    """The Slack stand-in, reset, with SLACK_API_URL / SLACK_BOT_TOKEN pointing at it.

    Its workspace knows the demo's people and :data:`SLACK_TEST_USERS`.
    """
    control = StandinControl(_slack_server.base_url)
    control.reset()
    control.command("users", {"users": SLACK_TEST_USERS})
    settings.SLACK_API_URL = f"{_slack_server.base_url}/api/"
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    control.env = {"SLACK_API_URL": settings.SLACK_API_URL, "SLACK_BOT_TOKEN": SLACK_TOKEN}
    return control


@pytest.fixture
def pagerduty(settings, _pagerduty_server) -> StandinControl:
    """The PagerDuty stand-in (HTTPS, trustme CA), reset, with every PAGERDUTY_* set."""
    server, ca_path = _pagerduty_server
    control = StandinControl(
        server.base_url, ssl_context=ssl.create_default_context(cafile=ca_path)
    )
    control.reset()
    settings.PAGERDUTY_EVENTS_URL = server.base_url
    settings.PAGERDUTY_API_URL = server.base_url
    settings.PAGERDUTY_ROUTING_KEY = PAGERDUTY_ROUTING_KEY
    settings.PAGERDUTY_API_TOKEN = PAGERDUTY_API_TOKEN
    settings.PAGERDUTY_FROM_EMAIL = PAGERDUTY_FROM
    settings.PAGERDUTY_CA_BUNDLE = ca_path
    control.env = {
        "PAGERDUTY_EVENTS_URL": server.base_url,
        "PAGERDUTY_API_URL": server.base_url,
        "PAGERDUTY_ROUTING_KEY": PAGERDUTY_ROUTING_KEY,
        "PAGERDUTY_API_TOKEN": PAGERDUTY_API_TOKEN,
        "PAGERDUTY_FROM_EMAIL": PAGERDUTY_FROM,
        "PAGERDUTY_CA_BUNDLE": ca_path,
    }
    return control


@pytest.fixture
def statuspage(settings, _statuspage_server) -> StandinControl:
    """The Statuspage stand-in, reset, with STATUSPAGE_* set and a 20 ms pacing interval."""
    control = StandinControl(_statuspage_server.base_url)
    control.reset()
    settings.STATUSPAGE_API_URL = f"{_statuspage_server.base_url}/v1"
    settings.STATUSPAGE_API_KEY = STATUSPAGE_KEY
    settings.STATUSPAGE_PAGE_ID = STATUSPAGE_PAGE
    settings.STATUSPAGE_MIN_INTERVAL = 0.02
    control.env = {
        "STATUSPAGE_API_URL": settings.STATUSPAGE_API_URL,
        "STATUSPAGE_API_KEY": STATUSPAGE_KEY,
        "STATUSPAGE_PAGE_ID": STATUSPAGE_PAGE,
        "STATUSPAGE_MIN_INTERVAL": "0.02",
    }
    return control


@pytest.fixture(scope="session")
def _teams_server() -> Iterator[StandinServer]:
    from nexusops.standins import teams as teams_standin

    server, _ = teams_standin.make_server(rate_window=1.0)
    yield from _serve(server)


@pytest.fixture
def teams(settings, _teams_server) -> StandinControl:
    """The Teams stand-in (login, Graph, Bot Framework), reset, with every TEAMS_* set."""
    from nexusops.integrations.teams import auth
    from nexusops.standins import teams as teams_standin

    # press/say wait for the console to answer the activity they deliver: allow for load.
    control = StandinControl(_teams_server.base_url, timeout=30.0)
    control.reset()
    auth.forget_keys()  # a reset stand-in has new signing keys
    base = _teams_server.base_url
    control.env = {
        "TEAMS_LOGIN_URL": base,
        "TEAMS_GRAPH_URL": f"{base}/v1.0",
        "TEAMS_SERVICE_URL": f"{base}/",
        "TEAMS_OPENID_URL": f"{base}/v1/.well-known/openidconfiguration",
        "TEAMS_BOT_ISSUER": "https://api.botframework.com",
        "TEAMS_TENANT_ID": teams_standin.TENANT_ID,
        "TEAMS_APP_ID": teams_standin.APP_ID,
        "TEAMS_APP_PASSWORD": teams_standin.APP_SECRET,
        "TEAMS_TEAM_ID": teams_standin.TEAM_ID,
    }
    for name, value in control.env.items():
        setattr(settings, name, value)
    return control
