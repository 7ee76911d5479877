"""SendGrid (runbook 5.3): is the API up, is the key valid, are bounces and blocks normal?

``GET /v3/scopes`` proves reachability and the key; ``GET /v3/stats`` over the last ``days``
gives the bounce and block rates (of requests), flagged above their thresholds.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
from typing import TYPE_CHECKING

from nexusops.common import clock
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from . import Health, base_url, percent

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient  # imported by the check: not at start-up

VENDOR = "sendgrid"


def _client(api_url: str, api_key: str, timeout: float) -> SendGridAPIClient:
    if not api_key or not api_key.startswith("SG."):
        raise NotConfigured("SENDGRID_API_KEY must be a SendGrid key (SG.…)", vendor=VENDOR)
    from sendgrid import SendGridAPIClient

    client = SendGridAPIClient(
        api_key, host=base_url(api_url, vendor=VENDOR, setting="SENDGRID_API_URL")
    )
    client.client.timeout = timeout
    return client


def _call(what: str, call):  # noqa: ANN001, ANN202
    from python_http_client import exceptions as http_errors

    try:
        response = call()
    except http_errors.HTTPError as exc:
        status = int(exc.status_code)
        try:
            message = json.loads(exc.body)["errors"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            message = str(exc.body)[:200]
        text = f"{what}: HTTP {status} {message}"
        if status == 429:
            reset = (exc.headers or {}).get("X-RateLimit-Reset")
            wait = max(0.0, float(reset) - clock.now().timestamp()) if reset else None
            raise RateLimited(text, retry_after=wait, vendor=VENDOR) from None
        if status >= 500:
            raise VendorUnavailable(text, vendor=VENDOR, status=status) from None
        raise VendorRejected(text, vendor=VENDOR, status=status) from None
    except (urllib.error.URLError, OSError) as exc:
        raise VendorUnavailable(f"{what}: {exc}", vendor=VENDOR) from None
    return json.loads(response.body or b"null")


def sendgrid_health(
    *,
    api_url: str,
    api_key: str,
    days: int = 1,
    bounce_limit: float = 5.0,
    block_limit: float = 2.0,
    timeout: float = 10.0,
) -> Health:
    if not 1 <= days <= 31:
        raise ValueError("days must be between 1 and 31")
    if not (0 <= bounce_limit <= 100 and 0 <= block_limit <= 100):
        raise ValueError("the limits are percentages between 0 and 100")
    client = _client(api_url, api_key, timeout)
    scopes = _call("GET /v3/scopes", lambda: client.client.scopes.get()).get("scopes", [])
    findings = []
    if "stats.read" not in scopes:
        findings.append("the key lacks the stats.read scope: bounce and block rates unknown")
        return Health(
            VENDOR,
            False,
            "SendGrid API up, key valid; " + findings[0],
            findings,
            {"scopes": scopes},
        )
    start = clock.now().date() - dt.timedelta(days=days - 1)
    rows = _call(
        "GET /v3/stats",
        lambda: client.client.stats.get(
            query_params={"start_date": start.isoformat(), "aggregated_by": "day"}
        ),
    )
    totals: dict[str, int] = {}
    for row in rows or []:
        for stat in row.get("stats", []):
            for name, value in stat.get("metrics", {}).items():
                totals[name] = totals.get(name, 0) + int(value or 0)
    sent = totals.get("requests", 0)
    bounce = percent(totals.get("bounces", 0), sent)
    block = percent(totals.get("blocks", 0), sent)
    if bounce > bounce_limit:
        findings.append(f"bounce rate {bounce}% is above {bounce_limit}%")
    if block > block_limit:
        findings.append(f"block rate {block}% is above {block_limit}%")
    figures = {
        "scopes": scopes,
        "since": start.isoformat(),
        "requests": sent,
        "delivered": totals.get("delivered", 0),
        "bounces": totals.get("bounces", 0),
        "blocks": totals.get("blocks", 0),
        "bounce_rate": bounce,
        "block_rate": block,
    }
    summary = (
        f"SendGrid API up, key valid; since {start}: {sent} requests, bounce {bounce}%, "
        f"block {block}%"
    )
    return Health(VENDOR, not findings, summary, findings, figures)
