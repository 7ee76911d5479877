"""Validation of inbound Slack and PagerDuty requests (Sentry's request-class pattern).

Each class takes the Django request, and ``validate()`` either fills in the parsed fields or
raises :class:`InboundRejected` carrying the HTTP status to answer with. Signatures are
checked on the raw body before anything is parsed, so an unsigned body is never read.

To accept one more Slack endpoint, subclass :class:`SlackRequest` and implement
``_parse()``; the signature check is inherited.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpRequest

from nexusops.integrations.errors import InvalidSignature, MalformedPayload, NotConfigured
from nexusops.integrations.pagerduty.webhooks import (
    SIGNATURE_HEADER,
    WebhookEvent,
    verify_and_parse,
    webhook_secrets_from_settings,
)
from nexusops.integrations.slack.messages import verify_slack_signature

SLACK_HOOKS = ("https", "hooks.slack.com")
# Slack and PagerDuty nest a dozen levels at most. A deeper signed body is refused: past about
# a thousand levels the parser raises RecursionError, and a few hundred still make every later
# json.dumps (the inbound log, the timeline) a recursion hazard.
MAX_JSON_DEPTH = 64


class InboundRejected(Exception):
    """The request is refused; ``status`` is the HTTP answer, ``message`` says why."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def response_url_allowed(url: str) -> bool:
    """Only Slack's own hooks host, or the configured Slack API host (a stand-in), may be
    called back: a forged ``response_url`` must not make us POST anywhere else (SSRF)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    allowed = {SLACK_HOOKS}
    api = urlsplit(settings.SLACK_API_URL or "")
    if api.scheme and api.netloc:
        allowed.add((api.scheme, api.netloc.lower()))
    return (parts.scheme, parts.netloc.lower()) in allowed


def json_depth(document: Any, *, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep ``document`` nests, counted without recursion; stops once past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(raw: str | bytes, what: str) -> Any:
    """Parse ``raw`` or raise a 400 :class:`InboundRejected` (not JSON, or nested too deep)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InboundRejected(f"{what} is not JSON (or nests too deep).", status=400) from None
    if json_depth(document) > MAX_JSON_DEPTH:
        raise InboundRejected(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels.", status=400
        ) from None
    return document


class SlackRequest:
    """A request from Slack, checked against ``SLACK_SIGNING_SECRET`` (v0, 5-minute window)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.body: bytes = request.body
        self.signature = request.headers.get("X-Slack-Signature") or ""

    def validate(self) -> None:
        self._authenticate()
        self._parse()

    def _authenticate(self) -> None:
        timestamp = self.request.headers.get("X-Slack-Request-Timestamp")
        # An unsigned request is refused as such even when the integration is off.
        if not timestamp or not self.signature:
            raise InboundRejected("Missing Slack signature headers.", status=401)
        try:
            verify_slack_signature(
                settings.SLACK_SIGNING_SECRET, timestamp, self.body, self.signature
            )
        except NotConfigured:
            raise InboundRejected(
                "The Slack integration is off: SLACK_SIGNING_SECRET is not set.", status=503
            ) from None
        except InvalidSignature as exc:
            raise InboundRejected(f"Invalid Slack signature: {exc.message}.", status=401) from None

    def _form(self) -> dict[str, str]:
        try:
            text = self.body.decode("utf-8")
            pairs = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except (UnicodeDecodeError, ValueError):
            raise InboundRejected("The body is not a URL-encoded form.", status=400) from None
        return {key: values[-1] for key, values in pairs.items()}

    def _parse(self) -> None:
        raise NotImplementedError

    @property
    def replay_key(self) -> str:
        """The signature covers timestamp and body: one value per genuine request."""
        return self.signature.removeprefix("v0=")[:200]


class SlackCommandRequest(SlackRequest):
    """A slash command: a form with ``command``, ``text``, ``user_id``, ``channel_id``..."""

    def _parse(self) -> None:
        form = self._form()
        self.command = form.get("command", "")
        self.text = form.get("text", "")
        self.user_id = form.get("user_id", "")
        self.user_name = form.get("user_name", "")
        self.channel_id = form.get("channel_id", "")
        self.response_url = form.get("response_url", "")
        self.trigger_id = form.get("trigger_id", "")
        # Slack's periodic certificate check carries no command; it only wants a 200.
        self.ssl_check = form.get("ssl_check") == "1"
        if not self.ssl_check and (not self.command or not self.user_id):
            raise InboundRejected("A slash command needs 'command' and 'user_id'.", status=400)


class SlackInteractionRequest(SlackRequest):
    """An interaction: a form whose ``payload`` field is JSON (we handle ``block_actions``)."""

    def _parse(self) -> None:
        raw = self._form().get("payload")
        if not raw:
            raise InboundRejected("An interaction needs a 'payload' field.", status=400)
        payload = load_json(raw, "The 'payload' field")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise InboundRejected("The payload has no 'type'.", status=400)
        user = payload.get("user")
        self.payload: dict[str, Any] = payload
        self.type: str = payload["type"]
        self.user_id = str(user.get("id", "")) if isinstance(user, dict) else ""
        self.response_url = str(payload.get("response_url") or "")
        actions = payload.get("actions")
        self.actions: list[dict[str, Any]] = (
            [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []
        )
        if self.type == "block_actions" and not self.user_id:
            raise InboundRejected("A block_actions payload needs a 'user'.", status=400)


class SlackEventRequest(SlackRequest):
    """An Events API delivery: JSON, ``url_verification`` or ``event_callback``."""

    def _parse(self) -> None:
        document = load_json(self.body, "The body")
        if not isinstance(document, dict) or not isinstance(document.get("type"), str):
            raise InboundRejected("The body has no 'type'.", status=400)
        self.type: str = document["type"]
        self.challenge = str(document.get("challenge") or "")
        event = document.get("event")
        self.event: dict[str, Any] = event if isinstance(event, dict) else {}
        self.event_id = str(document.get("event_id") or "")
        if self.type == "url_verification" and not self.challenge:
            raise InboundRejected("url_verification without a 'challenge'.", status=400)
        if self.type == "event_callback" and (not self.event_id or not self.event):
            raise InboundRejected("event_callback needs 'event_id' and 'event'.", status=400)


class PagerDutyWebhookRequest:
    """A v3 webhook, checked against every secret in ``PAGERDUTY_WEBHOOK_SECRET``."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.body: bytes = request.body

    def validate(self) -> None:
        header = self.request.headers.get(SIGNATURE_HEADER)
        if not header:
            raise InboundRejected(f"Missing {SIGNATURE_HEADER} header.", status=401)
        try:
            self.event: WebhookEvent = verify_and_parse(
                self.body, header, webhook_secrets_from_settings()
            )
        except NotConfigured:
            raise InboundRejected(
                "PagerDuty webhooks are off: PAGERDUTY_WEBHOOK_SECRET is not set.", status=503
            ) from None
        except InvalidSignature as exc:
            raise InboundRejected(
                f"Invalid PagerDuty signature: {exc.message}.", status=401
            ) from None
        except MalformedPayload as exc:
            raise InboundRejected(f"Malformed webhook: {exc.message}.", status=400) from None
        except RecursionError:
            raise InboundRejected("Malformed webhook: it nests too deep.", status=400) from None
        if json_depth(self.event.raw) > MAX_JSON_DEPTH:
            raise InboundRejected(
                f"Malformed webhook: it nests deeper than {MAX_JSON_DEPTH} levels.", status=400
            )
