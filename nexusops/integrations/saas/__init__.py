"""Health checks of the SaaS the runbook's section 5 scenarios depend on.

One module per vendor, each the only place its client library is imported: SendGrid (5.3,
the ``sendgrid`` library), Stripe (5.4, ``stripe``) and the OAuth/OpenID Connect provider
(5.1, ``requests`` and PyJWT). Each check validates its arguments before any call (a bad URL,
key or threshold raises :class:`~nexusops.integrations.errors.NotConfigured` or
``ValueError`` and calls nothing) and returns a :class:`Health`: what it measured and the
findings a person acts on. Vendor errors come back as this package's ``IntegrationError``\\ s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from nexusops.integrations.errors import NotConfigured


@dataclass(frozen=True)
class Health:
    vendor: str
    healthy: bool
    summary: str
    findings: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def base_url(value: str, *, vendor: str, setting: str) -> str:
    """An http(s) URL with a host, without a trailing slash; NotConfigured otherwise."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured(f"{setting} must be an http(s) URL, got {value!r}", vendor=vendor)
    return value.rstrip("/")


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
