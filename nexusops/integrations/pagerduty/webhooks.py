"""Inbound PagerDuty v3 webhooks: verify the signature, parse the envelope. No vendor library.

PagerDuty signs the raw body with each secret of the subscription and sends
``X-PagerDuty-Signature: v1=<hex>,v1=<hex>`` (several entries while a secret rotates). We
accept the request when any entry matches any of our secrets, so ``PAGERDUTY_WEBHOOK_SECRET``
may hold the old and the new secret, comma-separated, during a rotation.

A view does, in this order::

    event = verify_and_parse(request.body, request.headers.get("X-PagerDuty-Signature"))
    if event.event_type == "incident.acknowledged": ...

To handle one more event type, read it from :attr:`WebhookEvent.event_type` in the service
that consumes events; this module stays protocol-only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from nexusops.integrations.errors import InvalidSignature, MalformedPayload, NotConfigured

VENDOR = "pagerduty"
SIGNATURE_HEADER = "X-PagerDuty-Signature"
SIGNATURE_VERSION = "v1"


def pagerduty_signature(secret: str, body: bytes) -> str:
    """One ``v1=<hex>`` entry, as PagerDuty computes it."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def webhook_secrets_from_settings() -> list[str]:
    """``PAGERDUTY_WEBHOOK_SECRET`` as a list: a comma-separated string or a list/tuple."""
    value = getattr(settings, "PAGERDUTY_WEBHOOK_SECRET", "")
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [s.strip() for s in items if s and s.strip()]


def verify_pagerduty_signature(
    secrets: str | Iterable[str], body: bytes, signature_header: str | None
) -> None:
    """Raise :class:`InvalidSignature` unless some ``v1=`` entry signs ``body`` with a secret.

    Entries of other versions are ignored. Every comparison is constant-time and all pairs are
    compared, so timing does not tell which secret or entry matched.
    """
    secret_list = [secrets] if isinstance(secrets, str) else list(secrets)
    secret_list = [s for s in secret_list if s]
    if not secret_list:
        raise NotConfigured("no PagerDuty webhook secret to verify with", vendor=VENDOR)
    if not signature_header:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header", vendor=VENDOR, code="missing")
    offered = [
        entry.strip().encode()
        for entry in signature_header.split(",")
        if entry.strip().startswith(f"{SIGNATURE_VERSION}=")
    ]
    if not offered:
        raise InvalidSignature(
            f"no {SIGNATURE_VERSION} signature in {SIGNATURE_HEADER}", vendor=VENDOR, code="missing"
        )
    expected = [pagerduty_signature(secret, body).encode() for secret in secret_list]
    matched = False
    for candidate in offered:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise InvalidSignature("PagerDuty signature does not match", vendor=VENDOR, code="mismatch")


@dataclass(frozen=True)
class WebhookEvent:
    """One v3 webhook event: ``event_type`` like ``incident.acknowledged``; ``data`` is the
    resource (for incident events, the incident with ``id``, ``status``, ``html_url``...)."""

    id: str
    event_type: str
    resource_type: str
    occurred_at: str
    data: dict[str, Any]
    agent: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def incident_id(self) -> str | None:
        """The PagerDuty incident id for ``incident.*`` events."""
        if self.resource_type == "incident":
            return self.data.get("id")
        incident = self.data.get("incident")
        return incident.get("id") if isinstance(incident, dict) else None


def parse_webhook_event(body: bytes) -> WebhookEvent:
    """Parse the v3 envelope ``{"event": {"id", "event_type", "resource_type", "occurred_at",
    "agent", "data"}}``; raise :class:`MalformedPayload` when it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"webhook body is not JSON: {exc}", vendor=VENDOR) from None
    event = document.get("event") if isinstance(document, dict) else None
    if not isinstance(event, dict):
        raise MalformedPayload("webhook body has no 'event' object", vendor=VENDOR)
    event_id, event_type, data = event.get("id"), event.get("event_type"), event.get("data")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedPayload("webhook event has no 'id'", vendor=VENDOR)
    if not isinstance(event_type, str) or "." not in event_type:
        raise MalformedPayload("webhook event has no valid 'event_type'", vendor=VENDOR)
    if not isinstance(data, dict):
        raise MalformedPayload("webhook event has no 'data' object", vendor=VENDOR)
    agent = event.get("agent")
    return WebhookEvent(
        id=event_id,
        event_type=event_type,
        resource_type=str(event.get("resource_type") or event_type.split(".", 1)[0]),
        occurred_at=str(event.get("occurred_at") or ""),
        data=data,
        agent=agent if isinstance(agent, dict) else None,
        raw=event,
    )


def verify_and_parse(
    body: bytes, signature_header: str | None, secrets: str | Iterable[str] | None = None
) -> WebhookEvent:
    """Verify (with ``secrets`` or the settings' secrets), then parse. Verification first:
    an unsigned body is never parsed."""
    verify_pagerduty_signature(
        webhook_secrets_from_settings() if secrets is None else secrets, body, signature_header
    )
    return parse_webhook_event(body)
