"""The Mattermost stand-in on a free port, and NEXUSOPS_CHAT naming Mattermost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat import senders
from nexusops.engine.outbox import registry
from nexusops.standins import mattermost as mattermost_standin
from nexusops.standins.common import StandinServer, run_in_thread
from nexusops.standins.control import StandinControl
from nexusops.standins.mattermost.words import TEAM_ID, TOKEN

ACTION_SECRET = "mm-test-action-secret"


@pytest.fixture(scope="session")
def _mattermost_server() -> Iterator[StandinServer]:
    server, _ = mattermost_standin.make_server(per_second=50)
    run_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def mattermost(settings, _mattermost_server) -> Iterator[StandinControl]:
    """Mattermost alone as the chat (``NEXUSOPS_CHAT=mattermost``), its senders registered."""
    control = StandinControl(_mattermost_server.base_url)
    control.reset()
    settings.NEXUSOPS_CHAT = "mattermost"
    settings.MATTERMOST_URL = _mattermost_server.base_url
    settings.MATTERMOST_TOKEN = TOKEN
    settings.MATTERMOST_TEAM_ID = TEAM_ID
    settings.MATTERMOST_ACTION_SECRET = ACTION_SECRET
    senders.register()
    yield control
    for effect in senders.EFFECTS:  # the suite's other tests run with Slack alone
        registry._senders.pop(f"mattermost.{effect}", None)


def calls(control: StandinControl, method: str, path_end: str) -> list[dict]:
    return [
        r
        for r in control.received()
        if r["method"] == method
        and r["path"].endswith(path_end)
        and r["path"].startswith("/api/v4")
    ]
