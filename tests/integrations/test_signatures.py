"""Inbound request verification: Slack's v0 signatures and PagerDuty's v3 webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from nexusops.integrations.errors import InvalidSignature, MalformedPayload, NotConfigured
from nexusops.integrations.pagerduty.webhooks import (
    parse_webhook_event,
    verify_and_parse,
    verify_pagerduty_signature,
)
from nexusops.integrations.slack.messages import verify_slack_signature

# --- Slack v0 -----------------------------------------------------------------------------
# The example from Slack's "Verifying requests from Slack" documentation.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TS = "1531420618"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629"
    b"121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SLACK_NOW = 1531420618 + 10


def test_slack_signature_matches_slacks_documented_example():
    verify_slack_signature(SLACK_SECRET, SLACK_TS, SLACK_BODY, SLACK_SIGNATURE, now=SLACK_NOW)


def test_slack_signature_forged():
    forged = "v0=" + hmac.new(b"wrong-secret", SLACK_BODY, hashlib.sha256).hexdigest()
    with pytest.raises(InvalidSignature) as caught:
        verify_slack_signature(SLACK_SECRET, SLACK_TS, SLACK_BODY, forged, now=SLACK_NOW)
    assert caught.value.code == "mismatch" and caught.value.status == 401


def test_slack_signature_tampered_body():
    with pytest.raises(InvalidSignature):
        verify_slack_signature(
            SLACK_SECRET, SLACK_TS, SLACK_BODY + b"&text=rm", SLACK_SIGNATURE, now=SLACK_NOW
        )


def test_slack_signature_tampered_timestamp():
    with pytest.raises(InvalidSignature):
        verify_slack_signature(
            SLACK_SECRET, "1531420619", SLACK_BODY, SLACK_SIGNATURE, now=SLACK_NOW
        )


@pytest.mark.parametrize("offset", [301, -301, 86400])
def test_slack_signature_stale_or_future_timestamp(offset):
    with pytest.raises(InvalidSignature) as caught:
        verify_slack_signature(
            SLACK_SECRET, SLACK_TS, SLACK_BODY, SLACK_SIGNATURE, now=int(SLACK_TS) + offset
        )
    assert caught.value.code == "stale"


def test_slack_signature_tolerance_is_inclusive_and_configurable():
    verify_slack_signature(
        SLACK_SECRET, SLACK_TS, SLACK_BODY, SLACK_SIGNATURE, now=int(SLACK_TS) + 300
    )
    with pytest.raises(InvalidSignature):
        verify_slack_signature(
            SLACK_SECRET,
            SLACK_TS,
            SLACK_BODY,
            SLACK_SIGNATURE,
            now=int(SLACK_TS) + 60,
            tolerance=30,
        )


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, SLACK_SIGNATURE),
        (SLACK_TS, None),
        ("", SLACK_SIGNATURE),
        ("soon", SLACK_SIGNATURE),
        (SLACK_TS, "v0=zz\u00e9"),
    ],
)
def test_slack_signature_missing_or_malformed_headers(timestamp, signature):
    with pytest.raises(InvalidSignature):
        verify_slack_signature(SLACK_SECRET, timestamp, SLACK_BODY, signature, now=SLACK_NOW)


def test_slack_signature_needs_a_secret():
    with pytest.raises(NotConfigured):
        verify_slack_signature("", SLACK_TS, SLACK_BODY, SLACK_SIGNATURE, now=SLACK_NOW)


# --- PagerDuty v3 webhooks ------------------------------------------------------------------
PD_BODY = json.dumps(
    {
        "event": {
            "id": "01DEN4HPBQAAAG05V5QQYBRZMF",
            "event_type": "incident.acknowledged",
            "resource_type": "incident",
            "occurred_at": "2026-11-26T09:14:00.000Z",
            "agent": {"id": "PLH1HKV", "type": "user_reference"},
            "data": {
                "id": "Q000001",
                "type": "incident",
                "status": "acknowledged",
                "incident_key": "INC-20261126-001",
                "html_url": "https://acme.pagerduty.com/incidents/Q000001",
            },
        }
    }
).encode()


def _v1(secret: str, body: bytes = PD_BODY) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_pagerduty_signature_valid():
    verify_pagerduty_signature("whsec-new", PD_BODY, _v1("whsec-new"))


def test_pagerduty_signature_any_of_several_v1_entries():
    header = f"{_v1('someone-else')},{_v1('whsec-new')}, v2=abcdef"
    verify_pagerduty_signature(["whsec-new"], PD_BODY, header)


def test_pagerduty_signature_rotated_secret_list():
    # PagerDuty still signs with the old secret; we already hold old and new.
    verify_pagerduty_signature(["whsec-new", "whsec-old"], PD_BODY, _v1("whsec-old"))


def test_pagerduty_signature_secrets_from_settings(settings):
    settings.PAGERDUTY_WEBHOOK_SECRET = "whsec-new, whsec-old"
    event = verify_and_parse(PD_BODY, _v1("whsec-old"))
    assert event.event_type == "incident.acknowledged"


def test_pagerduty_signature_forged():
    with pytest.raises(InvalidSignature) as caught:
        verify_pagerduty_signature(["whsec-new", "whsec-old"], PD_BODY, _v1("guess"))
    assert caught.value.code == "mismatch"


def test_pagerduty_signature_tampered_body():
    tampered = PD_BODY.replace(b"acknowledged", b"resolved")
    with pytest.raises(InvalidSignature):
        verify_pagerduty_signature("whsec-new", tampered, _v1("whsec-new"))


@pytest.mark.parametrize("header", [None, "", "v2=abc", "sha256=abc", "v1=", "v1=\u00e9\u00e9"])
def test_pagerduty_signature_missing_or_malformed(header):
    with pytest.raises(InvalidSignature):
        verify_pagerduty_signature("whsec-new", PD_BODY, header)


def test_pagerduty_signature_needs_a_secret(settings):
    settings.PAGERDUTY_WEBHOOK_SECRET = ""
    with pytest.raises(NotConfigured):
        verify_and_parse(PD_BODY, _v1("whsec-new"))


def test_unsigned_bodies_are_never_parsed():
    with pytest.raises(InvalidSignature):
        verify_and_parse(b"not json", _v1("other"), secrets=["whsec-new"])


def test_pagerduty_event_envelope_is_parsed():
    event = verify_and_parse(PD_BODY, _v1("whsec-new"), secrets="whsec-new")

    assert event.id == "01DEN4HPBQAAAG05V5QQYBRZMF"
    assert event.event_type == "incident.acknowledged"
    assert event.resource_type == "incident"
    assert event.incident_id == "Q000001"
    assert event.data["incident_key"] == "INC-20261126-001"
    assert event.agent == {"id": "PLH1HKV", "type": "user_reference"}


@pytest.mark.parametrize("event_type", ["incident.resolved", "incident.reassigned"])
def test_other_incident_event_types_parse(event_type):
    body = json.dumps({"event": {"id": "E1", "event_type": event_type, "data": {"id": "Q9"}}})
    event = parse_webhook_event(body.encode())
    assert event.event_type == event_type and event.incident_id == "Q9"
    assert event.resource_type == "incident"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"messages": []}',
        b'{"event": {"event_type": "incident.resolved"}}',
        b'{"event": {"id": "E1", "event_type": "nope", "data": {}}}',
        b'{"event": {"id": "E1", "event_type": "incident.resolved", "data": null}}',
    ],
)
def test_malformed_envelopes_are_refused(body):
    with pytest.raises(MalformedPayload) as caught:
        parse_webhook_event(body)
    assert caught.value.status == 400
