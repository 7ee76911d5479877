"""Answering a Slack interaction later, through its ``response_url`` (ephemeral).

The URL came in a signed request, but is still checked against Slack's hosts before we POST
to it (:func:`~incidents.inbound.requests.response_url_allowed`), so nobody can aim us at an
internal address.
"""

from __future__ import annotations

import logging

import requests

from nexusops.integrations.errors import VendorRejected, VendorUnavailable

from .requests import response_url_allowed

logger = logging.getLogger(__name__)
TIMEOUT = 5


def ephemeral(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def respond(response_url: str, text: str) -> None:
    """POST an ephemeral reply. Raises ``VendorUnavailable`` (retryable) on 5xx/timeouts."""
    if not response_url_allowed(response_url):
        raise VendorRejected(f"response_url {response_url!r} is not a Slack URL", vendor="slack")
    try:
        answer = requests.post(response_url, json=ephemeral(text), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise VendorUnavailable(f"response_url: {type(exc).__name__}", vendor="slack") from exc
    if answer.status_code >= 500 or answer.status_code == 429:
        raise VendorUnavailable(f"response_url answered {answer.status_code}", vendor="slack")
    if answer.status_code >= 400:
        raise VendorRejected(
            f"response_url answered {answer.status_code}", vendor="slack", status=answer.status_code
        )
