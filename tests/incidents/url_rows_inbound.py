"""Role/URL matrix rows for the inbound webhooks (imported by tests/test_url_matrix.py).

No login is needed or used: the vendor's signature authenticates, so every role, signed in
or not, gets 401 for a POST without one.
"""

from __future__ import annotations

from tests.support.urlmatrix import EVERYONE, Row


def _unsigned_post() -> Row:
    return Row({role: 401 for role in EVERYONE}, method="post")


ROWS = {
    "slack-commands": _unsigned_post(),
    "slack-interactivity": _unsigned_post(),
    "slack-events": _unsigned_post(),
    "pagerduty-webhook": _unsigned_post(),
    "mattermost-commands": _unsigned_post(),
    "mattermost-actions": _unsigned_post(),
    "mattermost-outgoing": _unsigned_post(),
    "teams-messages": _unsigned_post(),
}
