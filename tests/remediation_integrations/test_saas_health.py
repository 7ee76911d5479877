"""The runbook's SaaS checks (5.1, 5.3, 5.4): the vendors' own client libraries over real HTTP
against the strict stand-ins (SendGrid, Stripe) and NEXUS SSO (the OAuth provider)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)
from nexusops.integrations.saas.oauth_check import oauth_health
from nexusops.integrations.saas.sendgrid_check import sendgrid_health
from nexusops.integrations.saas.stripe_check import stripe_health
from nexusops.standins import idp, sendgrid_api, stripe_api
from nexusops.standins.common import StandinServer, run_in_thread
from nexusops.standins.control import StandinControl


def _serve(server: StandinServer) -> Iterator[StandinControl]:
    run_in_thread(server)
    yield StandinControl(server.base_url)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def _sendgrid() -> Iterator[StandinControl]:
    yield from _serve(sendgrid_api.make_server()[0])


@pytest.fixture(scope="module")
def _stripe() -> Iterator[StandinControl]:
    yield from _serve(stripe_api.make_server()[0])


@pytest.fixture
def sendgrid(_sendgrid: StandinControl) -> StandinControl:
    _sendgrid.reset()
    return _sendgrid


@pytest.fixture
def stripe(_stripe: StandinControl) -> StandinControl:
    _stripe.reset()
    return _stripe


def _day(back: int = 0) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=back)).isoformat()


# --- SendGrid (5.3) ---------------------------------------------------------------------------


def test_sendgrid_rates_under_their_limits_are_healthy(sendgrid):
    sendgrid.command(
        "stats",
        {
            "date": _day(),
            "metrics": {"requests": 1000, "bounces": 20, "blocks": 5, "delivered": 975},
        },
    )

    health = sendgrid_health(api_url=sendgrid.base_url, api_key=sendgrid_api.DEMO_KEY)

    assert health.healthy, health.findings
    assert (
        health.figures["requests"],
        health.figures["bounce_rate"],
        health.figures["block_rate"],
    ) == (1000, 2.0, 0.5)
    stats = sendgrid.received("/v3/stats")
    assert stats[0]["query"] == {"start_date": _day(), "aggregated_by": "day"}
    assert stats[0]["headers"]["Authorization"] == f"Bearer {sendgrid_api.DEMO_KEY}"


def test_sendgrid_flags_a_bounce_spike_and_blocks_over_days(sendgrid):
    sendgrid.command("stats", {"date": _day(1), "metrics": {"requests": 1000, "bounces": 10}})
    sendgrid.command(
        "stats", {"date": _day(), "metrics": {"requests": 1000, "bounces": 190, "blocks": 50}}
    )

    health = sendgrid_health(
        api_url=sendgrid.base_url,
        api_key=sendgrid_api.DEMO_KEY,
        days=2,
        bounce_limit=5,
        block_limit=2,
    )

    assert not health.healthy
    assert health.findings == ["bounce rate 10.0% is above 5%", "block rate 2.5% is above 2%"]


def test_sendgrid_refuses_an_unknown_key_and_a_key_without_stats(sendgrid):
    with pytest.raises(VendorRejected, match="HTTP 401 authorization required"):
        sendgrid_health(api_url=sendgrid.base_url, api_key="SG.not-a-key-it-knows")
    sendgrid.command("keys", {"key": "SG.mail-only", "scopes": ["mail.send"]})

    health = sendgrid_health(api_url=sendgrid.base_url, api_key="SG.mail-only")

    assert not health.healthy
    assert "stats.read" in health.findings[0]
    assert sendgrid.received("/v3/stats") == []


def test_sendgrid_bad_input_calls_nothing(sendgrid):
    with pytest.raises(NotConfigured, match="SG"):
        sendgrid_health(api_url=sendgrid.base_url, api_key="not-a-sendgrid-key")
    with pytest.raises(NotConfigured, match="SENDGRID_API_URL"):
        sendgrid_health(api_url="ftp://sendgrid", api_key=sendgrid_api.DEMO_KEY)
    with pytest.raises(ValueError, match="days"):
        sendgrid_health(api_url=sendgrid.base_url, api_key=sendgrid_api.DEMO_KEY, days=0)
    assert sendgrid.received() == []


def test_sendgrid_down_is_unavailable(sendgrid, closed_port):
    sendgrid.inject(503)
    with pytest.raises(VendorUnavailable, match="HTTP 503"):
        sendgrid_health(api_url=sendgrid.base_url, api_key=sendgrid_api.DEMO_KEY)
    with pytest.raises(VendorUnavailable):
        sendgrid_health(api_url=f"http://127.0.0.1:{closed_port}", api_key=sendgrid_api.DEMO_KEY)


# --- Stripe (5.4) -----------------------------------------------------------------------------


def test_stripe_counts_undelivered_events_in_the_window(stripe):
    now = int(time.time())
    stripe.command("endpoints", {"url": "https://billing.example/stripe"})
    stripe.command("events", {"type": "charge.succeeded", "delivered": True})
    stripe.command("events", {"type": "charge.failed", "delivered": False})
    stripe.command("events", {"type": "invoice.paid", "delivered": False, "created": now - 7200})

    health = stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY, hours=1)

    assert not health.healthy
    assert health.figures["undelivered"] == 1
    assert health.findings == [
        "1 events not delivered to every endpoint in the last 1 h (charge.failed ×1)"
    ]
    query = stripe.received("/v1/events")[0]["query"]
    assert query["delivery_success"] == "false" and int(query["created[gte]"]) >= now - 3601


def test_stripe_all_delivered_with_an_endpoint_is_healthy(stripe):
    stripe.command("endpoints", {"url": "https://billing.example/stripe"})
    stripe.command("events", {"type": "charge.succeeded", "delivered": True})

    health = stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY)

    assert health.healthy, health.findings
    assert health.figures["account"] == "acct_nexusdemo"


def test_stripe_flags_no_or_disabled_endpoints(stripe):
    assert stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY).findings == [
        "no webhook endpoint is registered"
    ]
    stripe.command("endpoints", {"url": "https://old.example/hook", "status": "disabled"})
    findings = stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY).findings
    assert findings == ["webhook endpoint https://old.example/hook is disabled"]


def test_stripe_pages_through_more_than_a_hundred_failures(stripe):
    stripe.command("endpoints", {"url": "https://billing.example/stripe"})
    for _ in range(130):
        stripe.command("events", {"type": "charge.failed", "delivered": False})

    health = stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY)

    assert health.figures["undelivered"] == 130
    assert len(stripe.received("/v1/events")) == 2  # two pages, by starting_after


def test_stripe_wrong_keys_are_refused(stripe):
    with pytest.raises(VendorRejected, match=r"HTTP 401 Invalid API Key provided: sk_test_\*+"):
        stripe_health(api_url=stripe.base_url, api_key="sk_test_wrong0000000000000000")
    with pytest.raises(NotConfigured, match="secret or restricted"):
        stripe_health(api_url=stripe.base_url, api_key="pk_test_publishable")
    with pytest.raises(ValueError, match="hours"):
        stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY, hours=0)
    assert [r["path"] for r in stripe.received()] == ["/v1/account"]


def test_stripe_rate_limit_is_a_rate_limit(stripe):
    stripe.inject(429)
    with pytest.raises(RateLimited, match="GET /v1/account"):
        stripe_health(api_url=stripe.base_url, api_key=stripe_api.DEMO_KEY)


def test_sendgrid_rate_limit_says_when_to_come_back(sendgrid):
    sendgrid.inject(429, retry_after=30)
    with pytest.raises(RateLimited) as raised:
        sendgrid_health(api_url=sendgrid.base_url, api_key=sendgrid_api.DEMO_KEY)
    assert 25 <= raised.value.retry_after <= 31


# --- the OAuth/OIDC provider (5.1), NEXUS SSO ---------------------------------------------------


def _oauth(idp_server, **changes):
    return oauth_health(
        **{
            "issuer": idp_server.url,
            "client_id": idp.HEALTH_CLIENT_ID,
            "client_secret": idp.HEALTH_CLIENT_SECRET,
            "introspection_url": f"{idp_server.url}/introspect/",
            **changes,
        }
    )


def test_oauth_provider_discovery_keys_and_token_round_trip(idp_server):
    health = _oauth(idp_server)

    assert health.healthy, health.findings
    assert health.figures["issuer"] == idp_server.url
    assert health.figures["keys"] and health.figures["introspected"] is True
    assert health.figures["token_type"] == "Bearer"


def test_oauth_provider_refuses_a_wrong_secret(idp_server):
    with pytest.raises(VendorRejected, match="token request: HTTP 401 invalid_client"):
        _oauth(idp_server, client_secret="not-the-secret")


def test_oauth_provider_under_another_issuer_name_is_flagged(idp_server):
    health = _oauth(idp_server, issuer=idp_server.url.replace("127.0.0.1", "localhost"))
    assert not health.healthy
    assert "every token will fail its issuer check" in health.findings[0]


def test_oauth_bad_input_and_a_dead_provider(closed_port):
    with pytest.raises(NotConfigured, match="OAUTH_CHECK_ISSUER"):
        oauth_health(issuer="not a url", client_id="a", client_secret="b")
    with pytest.raises(NotConfigured, match="CLIENT_ID"):
        oauth_health(issuer="http://127.0.0.1:1/o", client_id="", client_secret="b")
    with pytest.raises(VendorUnavailable, match="discovery document"):
        oauth_health(issuer=f"http://127.0.0.1:{closed_port}/o", client_id="a", client_secret="b")
