"""Only a command webhook on the configured Mattermost server is a response_url we POST to."""

from __future__ import annotations

import pytest

from chat.inbound.mattermost_reply import mattermost_markdown, response_url_allowed


@pytest.mark.parametrize(
    ("base", "url", "allowed"),
    [
        ("https://chat.example.com", "https://chat.example.com/hooks/commands/abc123", True),
        ("https://chat.example.com/", "https://CHAT.example.com/hooks/commands/abc123", True),
        ("https://example.com/mm", "https://example.com/mm/hooks/commands/abc123", True),
        ("https://example.com/mm", "https://example.com/hooks/commands/abc123", False),
        ("https://chat.example.com", "http://chat.example.com/hooks/commands/abc123", False),
        ("https://chat.example.com", "https://chat.example.com:8443/hooks/commands/a", False),
        ("https://chat.example.com", "https://evil.example/hooks/commands/abc123", False),
        ("https://chat.example.com", "https://u:p@chat.example.com/hooks/commands/a", False),
        ("https://chat.example.com", "https://chat.example.com/hooks/commands/", False),
        ("https://chat.example.com", "https://chat.example.com/hooks/commands/a/b", False),
        ("https://chat.example.com", "https://chat.example.com/hooks/commands/a?x=1", False),
        ("https://chat.example.com", "https://chat.example.com/api/v4/users", False),
        ("", "https://chat.example.com/hooks/commands/abc123", False),
    ],
)
def test_response_url_allowed(settings, base, url, allowed):
    settings.MATTERMOST_URL = base
    assert response_url_allowed(url) is allowed


def test_slack_bold_becomes_mattermost_bold():
    assert mattermost_markdown("Declared *INC-1* (P1): a*b") == "Declared **INC-1** (P1): a*b"
