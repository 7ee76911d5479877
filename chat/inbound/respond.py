"""Answering a Slack interaction later, through its ``response_url`` (ephemeral).

The URL came in a signed request, but is still checked against Slack's hosts before we POST
to it (:func:`~chat.inbound.requests.response_url_allowed`), so nobody can aim us at an
internal address. The POST itself is the Slack adapter's.
"""

from __future__ import annotations

from nexusops.integrations.errors import VendorRejected
from nexusops.integrations.slack.client import response_url_post

from .requests import response_url_allowed


def ephemeral(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def respond(response_url: str, text: str) -> None:
    """POST an ephemeral reply. Raises ``VendorUnavailable`` (retryable) on 5xx/timeouts."""
    if not response_url_allowed(response_url):
        raise VendorRejected(f"response_url {response_url!r} is not a Slack URL", vendor="slack")
    response_url_post(response_url, ephemeral(text))
