"""Stripe (runbook 5.4): is the API reachable with our key, and are webhooks being delivered?

``GET /v1/account`` proves reachability and the key; ``GET /v1/webhook_endpoints`` lists
the endpoints (a disabled one is a finding); ``GET /v1/events?delivery_success=false`` over
the last ``hours`` counts events some endpoint has not received yet.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from nexusops.common import clock
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from . import Health, base_url

if TYPE_CHECKING:
    import stripe  # imported by the check itself: not at every process's start-up

VENDOR = "stripe"
MAX_EVENTS = 1000


def _client(api_url: str, api_key: str, timeout: float) -> stripe.StripeClient:
    if not api_key.startswith(("sk_", "rk_")):
        raise NotConfigured(
            "STRIPE_API_KEY must be a secret or restricted key (sk_…/rk_…)", vendor=VENDOR
        )
    url = base_url(api_url, vendor=VENDOR, setting="STRIPE_API_URL")
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _call(what: str, call):  # noqa: ANN001, ANN202
    import stripe

    try:
        return call()
    except stripe.RateLimitError as exc:
        raise RateLimited(f"{what}: {exc.user_message}", vendor=VENDOR) from None
    except stripe.APIConnectionError as exc:
        raise VendorUnavailable(f"{what}: {exc.user_message}", vendor=VENDOR) from None
    except stripe.StripeError as exc:
        status = exc.http_status
        text = f"{what}: HTTP {status} {exc.user_message}"
        if status is not None and status >= 500:
            raise VendorUnavailable(text, vendor=VENDOR, status=status) from None
        raise VendorRejected(text, vendor=VENDOR, status=status, code=exc.code or "") from None


def stripe_health(*, api_url: str, api_key: str, hours: int = 24, timeout: float = 10.0) -> Health:
    if not 1 <= hours <= 24 * 30:
        raise ValueError("hours must be between 1 and 720")
    client = _client(api_url, api_key, timeout)
    account = _call("GET /v1/account", lambda: client.v1.accounts.retrieve_current())
    endpoints = _call(
        "GET /v1/webhook_endpoints",
        lambda: list(client.v1.webhook_endpoints.list({"limit": 100}).auto_paging_iter()),
    )
    since = int(clock.now().timestamp()) - hours * 3600
    failed: list[Any] = []

    def read_failed() -> None:
        page = client.v1.events.list(
            {"delivery_success": False, "created": {"gte": since}, "limit": 100}
        )
        for event in page.auto_paging_iter():
            failed.append(event)
            if len(failed) >= MAX_EVENTS:
                break

    _call("GET /v1/events", read_failed)
    findings = []
    disabled = [e.url for e in endpoints if e.status != "enabled"]
    if not endpoints:
        findings.append("no webhook endpoint is registered")
    for url in disabled:
        findings.append(f"webhook endpoint {url} is disabled")
    if failed:
        kinds = Counter(e.type for e in failed)
        words = ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common(5))
        findings.append(
            f"{len(failed)} events not delivered to every endpoint in the last {hours} h ({words})"
        )
    figures = {
        "account": account.id,
        "endpoints": [{"url": e.url, "status": e.status} for e in endpoints],
        "undelivered": len(failed),
        "hours": hours,
        "undelivered_ids": [e.id for e in failed[:20]],
    }
    summary = (
        f"Stripe API reachable (account {account.id}); {len(endpoints)} webhook "
        f"endpoints, {len(failed)} events undelivered in {hours} h"
    )
    return Health(VENDOR, not findings, summary, findings, figures)
