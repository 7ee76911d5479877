"""Health checks of the SaaS in the runbook's section 5: SendGrid (5.3), Stripe (5.4) and the
OAuth/OpenID Connect provider (5.1). Read-only: anyone who may run diagnosis may run them,
from an incident or from the scenario's page."""

from __future__ import annotations

import json
from dataclasses import asdict

from nexusops.integrations.saas import Health
from nexusops.integrations.saas.oauth_check import oauth_health
from nexusops.integrations.saas.sendgrid_check import sendgrid_health
from nexusops.integrations.saas.stripe_check import stripe_health

from . import ActionSpec, Outcome, Param, Progress, register
from .config import missing, setting


def _outcome(health: Health) -> Outcome:
    verdict = "healthy" if health.healthy else "NOT healthy: " + "; ".join(health.findings)
    return Outcome(
        f"{health.summary} — {verdict}", json.dumps(asdict(health), indent=2), asdict(health)
    )


def _sendgrid(params: dict, progress: Progress) -> Outcome:
    progress(10, "GET /v3/scopes, GET /v3/stats")
    return _outcome(
        sendgrid_health(
            api_url=setting("SENDGRID_API_URL"),
            api_key=setting("SENDGRID_API_KEY"),
            days=params["days"],
            bounce_limit=float(params["bounce_limit"]),
            block_limit=float(params["block_limit"]),
        )
    )


def _stripe(params: dict, progress: Progress) -> Outcome:
    progress(10, "GET /v1/account, /v1/webhook_endpoints, /v1/events?delivery_success=false")
    return _outcome(
        stripe_health(
            api_url=setting("STRIPE_API_URL"),
            api_key=setting("STRIPE_API_KEY"),
            hours=params["hours"],
        )
    )


def _oauth(params: dict, progress: Progress) -> Outcome:
    progress(10, "discovery, JWKS, client-credentials token, introspection")
    return _outcome(
        oauth_health(
            issuer=setting("OAUTH_CHECK_ISSUER"),
            client_id=setting("OAUTH_CHECK_CLIENT_ID"),
            client_secret=setting("OAUTH_CHECK_CLIENT_SECRET"),
            introspection_url=setting("OAUTH_CHECK_INTROSPECTION_URL"),
        )
    )


for spec in (
    ActionSpec(
        "saas.sendgrid_health", "SendGrid status, bounce and block rates", "sendgrid",
        _sendgrid, lambda: missing("SENDGRID_API_URL", "SENDGRID_API_KEY"),
        params=(
            Param("days", "Days", "int", default=1, min=1, max=31),
            Param("bounce_limit", "Bounce rate limit (%)", "int", default=5, min=0, max=100),
            Param("block_limit", "Block rate limit (%)", "int", default=2, min=0, max=100),
        ),
        standalone=True,
        description="GET /v3/scopes (API up, key valid) and /v3/stats (bounces, blocks)",
    ),
    ActionSpec(
        "saas.stripe_health", "Stripe reachability and webhook deliveries", "stripe", _stripe,
        lambda: missing("STRIPE_API_URL", "STRIPE_API_KEY"),
        params=(Param("hours", "Hours", "int", default=24, min=1, max=720),),
        standalone=True,
        description="GET /v1/account, webhook endpoints and events not delivered",
    ),
    ActionSpec(
        "saas.oauth_health", "OAuth/OIDC provider: discovery, keys, token", "oauth", _oauth,
        lambda: missing(
            "OAUTH_CHECK_ISSUER", "OAUTH_CHECK_CLIENT_ID", "OAUTH_CHECK_CLIENT_SECRET"
        ),
        standalone=True,
        description="discovery document, JWKS, client-credentials token and introspection",
    ),
):  # fmt: skip
    register(spec)
