"""Building Slack messages and checking Slack's requests: no I/O, no slack_sdk.

Builders return plain text or Block Kit dicts that :class:`~.client.SlackClient` sends; keeping
them apart from sending lets a test read a message without a server (STYLE.md habit 7).

To add a builder, write a function that takes plain values and returns a ``str`` or a block
``dict``, and run every piece of user-supplied text through :func:`escape_mrkdwn` before it
goes into a ``mrkdwn`` field.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any

from nexusops.integrations.errors import InvalidSignature, NotConfigured

CHANNEL_NAME_MAX = 80
_BROADCAST = re.compile(r"(?<![\w.])@(channel|here|everyone)\b", re.IGNORECASE)
_NOT_IN_CHANNEL_NAME = re.compile(r"[^a-z0-9_-]+")
ZERO_WIDTH_SPACE = "\u200b"


def escape_mrkdwn(text: str) -> str:
    """Make user text safe inside a Slack ``mrkdwn`` field.

    Slack reads ``<...>`` as a control sequence (``<!channel>``, ``<@U123>``,
    ``<http://x|label>``), so ``&``, ``<`` and ``>`` become entities as Slack's docs ask. A bare
    ``@here``/``@channel``/``@everyone`` gets a zero-width space after the ``@`` so that even a
    client that links names cannot turn an incident title into a broadcast ping.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{ZERO_WIDTH_SPACE}{m.group(1)}", escaped)


def incident_channel_name(number: str) -> str:
    """The Slack channel name for an incident number.

    ``"INC-20261126-001"`` becomes ``"incident-20261126-001"``: lowercase, at most 80
    characters, only ``[a-z0-9-_]`` (Slack's rule for channel names).
    """
    slug = _NOT_IN_CHANNEL_NAME.sub("-", number.strip().lower()).strip("-")
    if slug == "inc" or slug.startswith("inc-"):
        slug = slug[len("inc-") :]
    if not slug:
        raise ValueError(f"cannot make a Slack channel name from {number!r}")
    return f"incident-{slug}"[:CHANNEL_NAME_MAX].rstrip("-")


def channel_name_with_suffix(name: str, n: int) -> str:
    """``name`` with ``-n`` appended, still within Slack's 80 characters."""
    suffix = f"-{n}"
    return name[: CHANNEL_NAME_MAX - len(suffix)] + suffix


def section(text: str) -> dict[str, Any]:
    """A ``mrkdwn`` section block. ``text`` must already be escaped where it is user input."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> dict[str, Any]:
    """A header block: plain text, so no escaping is needed; Slack caps it at 150 chars."""
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A section of ``*label*\\nvalue`` fields; values are escaped here."""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*{escape_mrkdwn(label)}*\n{escape_mrkdwn(value)}"}
            for label, value in pairs[:10]
        ],
    }


def context(text: str) -> dict[str, Any]:
    """A small grey context line. ``text`` must already be escaped where it is user input."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


# --- inbound requests ------------------------------------------------------------------------
SIGNATURE_VERSION = "v0"


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack sends for ``body`` at ``timestamp``."""
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_slack_signature(
    signing_secret: str,
    timestamp: str | int | None,
    body: bytes,
    signature: str | None,
    now: float | None = None,
    tolerance: int = 300,
) -> None:
    """Check a request from Slack (slash command, interaction, event); raise if it is not.

    ``timestamp`` is the ``X-Slack-Request-Timestamp`` header, ``signature`` the
    ``X-Slack-Signature`` header and ``body`` the raw request body, unparsed. A timestamp more
    than ``tolerance`` seconds from ``now`` is refused, so a captured request cannot be replayed.

    Raises :class:`InvalidSignature` (``code`` says why: ``missing``, ``stale``, ``mismatch``)
    and :class:`NotConfigured` when there is no signing secret to check against.
    """
    if not signing_secret:
        raise NotConfigured("no Slack signing secret to verify requests with", vendor="slack")
    if timestamp is None or signature is None or timestamp == "" or signature == "":
        raise InvalidSignature("missing Slack signature headers", vendor="slack", code="missing")
    ts_text = str(timestamp).strip()
    try:
        sent_at = int(ts_text)
    except ValueError:
        raise InvalidSignature(
            "Slack request timestamp is not a number", vendor="slack", code="missing"
        ) from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise InvalidSignature(
            "Slack request timestamp is too old (possible replay)", vendor="slack", code="stale"
        )
    expected = slack_signature(signing_secret, ts_text, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise InvalidSignature("Slack signature does not match", vendor="slack", code="mismatch")
