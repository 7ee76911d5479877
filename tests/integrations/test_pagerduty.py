"""The PagerDuty adapter, with the real ``pagerduty`` library over HTTPS against the stand-in
(whose certificate is signed by a trustme CA the adapter trusts via PAGERDUTY_CA_BUNDLE)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from nexusops.common.errors import RetryableError
from nexusops.integrations.errors import (
    NotConfigured,
    NotYetVisible,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)
from nexusops.integrations.pagerduty.client import PagerDutyClient
from tests.support.standin_fixtures import (
    PAGERDUTY_API_TOKEN,
    PAGERDUTY_FROM,
    PAGERDUTY_ROUTING_KEY,
)

FAST = {"retry_sleep": 0.001}


def _events(pagerduty) -> list[dict]:
    return [r["body"] for r in pagerduty.received("/v2/enqueue")]


def _incident(pagerduty, dedup_key: str) -> dict:
    (incident,) = [i for i in pagerduty.state()["incidents"] if i["incident_key"] == dedup_key]
    return incident


def test_trigger_acknowledge_resolve_reach_the_events_api_by_dedup_key(pagerduty):
    client = PagerDutyClient.default()

    key = client.trigger(
        "INC-20261126-001",
        "P1: Payments API 5xx",
        "critical",
        "nexusops",
        {"services": ["payments-api"], "commander": "dana"},
    )
    assert _incident(pagerduty, key)["status"] == "triggered"
    client.acknowledge("INC-20261126-001")
    assert _incident(pagerduty, key)["status"] == "acknowledged"
    client.resolve("INC-20261126-001")
    assert _incident(pagerduty, key)["status"] == "resolved"

    assert key == "INC-20261126-001"
    trigger, ack, resolve = _events(pagerduty)
    assert trigger == {
        "event_action": "trigger",
        "dedup_key": "INC-20261126-001",
        "routing_key": PAGERDUTY_ROUTING_KEY,
        "payload": {
            "summary": "P1: Payments API 5xx",
            "source": "nexusops",
            "severity": "critical",
            "custom_details": {"services": ["payments-api"], "commander": "dana"},
        },
    }
    assert ack == {
        "event_action": "acknowledge",
        "dedup_key": "INC-20261126-001",
        "routing_key": PAGERDUTY_ROUTING_KEY,
    }
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == "INC-20261126-001"


def test_a_retriggered_open_incident_is_deduplicated(pagerduty):
    client = PagerDutyClient.default()
    client.trigger("INC-20261126-002", "P2", "error", "nexusops")
    client.trigger("INC-20261126-002", "P2 again", "error", "nexusops")

    incident = _incident(pagerduty, "INC-20261126-002")
    assert incident["alert_counts"]["all"] == 2


def test_a_note_lands_on_the_incident_of_that_dedup_key(pagerduty):
    client = PagerDutyClient.default()
    client.trigger("INC-20261126-010", "first", "warning", "nexusops")
    client.trigger("INC-20261126-011", "second", "critical", "nexusops")
    target = _incident(pagerduty, "INC-20261126-011")

    note = client.note_add("INC-20261126-011", "Rolled back payments-api to v41")

    assert note["content"] == "Rolled back payments-api to v41"
    (lookup,) = pagerduty.received("/incidents")
    assert lookup["method"] == "GET"
    assert lookup["query"]["incident_key"] == "INC-20261126-011"
    (posted,) = pagerduty.received(f"/incidents/{target['id']}/notes")
    assert posted["body"] == {"note": {"content": "Rolled back payments-api to v41"}}
    assert posted["headers"]["From"] == PAGERDUTY_FROM
    assert posted["headers"]["Authorization"] == f"Token token={PAGERDUTY_API_TOKEN}"
    notes = pagerduty.state()["notes"]
    assert list(notes) == [target["id"]]


def test_a_note_before_the_incident_exists_is_retryable(pagerduty):
    with pytest.raises(NotYetVisible) as caught:
        PagerDutyClient.default().note_add("INC-20261126-404", "too early")

    assert isinstance(caught.value, RetryableError)
    assert not pagerduty.received("/incidents/Q000001/notes")


def test_429_after_the_librarys_retry_becomes_rate_limited(pagerduty):
    pagerduty.inject(429, times=2, retry_after=12)

    with pytest.raises(RateLimited) as caught:
        PagerDutyClient.default(**FAST).acknowledge("INC-20261126-003")

    assert caught.value.retry_after == 12.0
    assert len(pagerduty.received("/v2/enqueue")) == 2


def test_a_single_429_is_retried_by_the_library(pagerduty):
    pagerduty.inject(429, times=1)

    assert PagerDutyClient.default(**FAST).acknowledge("INC-20261126-003") == "INC-20261126-003"
    assert len(pagerduty.received("/v2/enqueue")) == 2


def test_500_becomes_vendor_unavailable(pagerduty):
    pagerduty.inject(500, times=2)

    with pytest.raises(VendorUnavailable) as caught:
        PagerDutyClient.default(**FAST).trigger("INC-20261126-004", "x", "info", "nexusops")

    assert caught.value.status == 500
    assert pagerduty.state()["incidents"] == []


def test_4xx_is_rejected_not_retried(pagerduty):
    pagerduty.inject(400, times=1)

    with pytest.raises(VendorRejected) as caught:
        PagerDutyClient.default(**FAST).resolve("INC-20261126-005")

    assert not isinstance(caught.value, RetryableError)
    assert len(pagerduty.received("/v2/enqueue")) == 1


def test_the_stand_in_is_not_trusted_without_its_ca(pagerduty, settings):
    settings.PAGERDUTY_CA_BUNDLE = ""

    with pytest.raises(VendorUnavailable):
        PagerDutyClient.default(**FAST).acknowledge("INC-20261126-006")

    assert pagerduty.received() == []


def test_plain_http_urls_are_refused(settings):
    settings.PAGERDUTY_EVENTS_URL = "http://127.0.0.1:9"
    settings.PAGERDUTY_ROUTING_KEY = PAGERDUTY_ROUTING_KEY

    with pytest.raises(NotConfigured):
        PagerDutyClient.default()


def test_severity_is_checked_before_sending(pagerduty):
    with pytest.raises(ValueError):
        PagerDutyClient.default().trigger("INC-20261126-007", "x", "P1", "nexusops")
    assert pagerduty.received() == []


def test_not_configured_when_settings_are_unset(settings):
    for name in (
        "PAGERDUTY_EVENTS_URL",
        "PAGERDUTY_API_URL",
        "PAGERDUTY_ROUTING_KEY",
        "PAGERDUTY_API_TOKEN",
        "PAGERDUTY_FROM_EMAIL",
        "PAGERDUTY_CA_BUNDLE",
    ):
        if hasattr(settings, name):
            delattr(settings, name)

    with pytest.raises(NotConfigured):
        PagerDutyClient.default()
    assert PagerDutyClient.default_or_none() is None


def test_events_only_configuration_refuses_rest_operations(pagerduty, settings):
    settings.PAGERDUTY_API_TOKEN = ""
    client = PagerDutyClient.default()

    client.trigger("INC-20261126-008", "x", "info", "nexusops")
    with pytest.raises(NotConfigured):
        client.note_add("INC-20261126-008", "note")

    assert [r["path"] for r in pagerduty.received()] == ["/v2/enqueue"]


def test_an_incident_assigned_to_a_person_is_created_with_from(pagerduty):
    client = PagerDutyClient.default()
    created = client.incident_create(
        title="INC-20261126-020 [P0] Platform down",
        service_id="PSVC001",
        assignee_ids=["PMAYA01"],
        incident_key="INC-20261126-020:esc:7:3",
        details="Escalation tier 2",
    )
    assert created["assignments"] == [{"assignee": {"id": "PMAYA01", "type": "user_reference"}}]
    posted = [r for r in pagerduty.received("/incidents") if r["method"] == "POST"]
    assert posted[0]["headers"]["From"] == PAGERDUTY_FROM
    assert posted[0]["body"]["incident"]["service"] == {
        "id": "PSVC001",
        "type": "service_reference",
    }
    assert client.incident_find("INC-20261126-020:esc:7:3")["id"] == created["id"]


def test_a_second_open_incident_with_the_same_key_is_rejected(pagerduty):
    client = PagerDutyClient.default()
    kwargs = {
        "title": "page",
        "service_id": "PSVC001",
        "assignee_ids": ["PMAYA01"],
        "incident_key": "INC-20261126-021:esc:1:1",
    }
    client.incident_create(**kwargs)
    with pytest.raises(VendorRejected, match="already exists"):
        client.incident_create(**kwargs)
    with pytest.raises(VendorRejected, match="Service must be"):
        client.incident_create(**{**kwargs, "service_id": "", "incident_key": "other"})


def _page(client: PagerDutyClient, key: str, urgency: str = "high") -> dict:
    return client.incident_create(
        title=f"page {key}",
        service_id="PSVC001",
        assignee_ids=["PMAYA01"],
        incident_key=key,
        urgency=urgency,
    )


def _raw(pagerduty, method: str, path: str, body: dict, *, sender: str = PAGERDUTY_FROM):
    """One REST request by hand (no client library), to show what the stand-in refuses."""
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Token token={PAGERDUTY_API_TOKEN}",
    }
    if sender:
        headers["From"] = sender
    request = urllib.request.Request(
        f"{pagerduty.base_url}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=5, context=pagerduty.ssl_context) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_incident_keeps_the_urgency_it_was_opened_with(pagerduty):
    client = PagerDutyClient.default()
    low = _page(client, "INC-20261126-030:esc:1:1", urgency="low")
    high = _page(client, "INC-20261126-030:esc:1:2")

    held = {i["id"]: i for i in pagerduty.state()["incidents"]}
    assert (held[low["id"]]["urgency"], held[high["id"]]["urgency"]) == ("low", "high")
    with pytest.raises(ValueError, match="urgency"):
        _page(client, "INC-20261126-030:esc:1:3", urgency="medium")


def test_resolve_goes_through_put_with_from_and_is_safe_to_repeat(pagerduty):
    client = PagerDutyClient.default()
    page = _page(client, "INC-20261126-031:esc:1:1")
    assert pagerduty.state()["open"] == [page["id"]]

    resolved = client.incident_resolve(page["id"], resolution="console incident resolved")

    assert resolved["status"] == "resolved" and pagerduty.state()["open"] == []
    (put,) = [r for r in pagerduty.received() if r["method"] == "PUT"]
    assert put["path"] == f"/incidents/{page['id']}"
    assert put["headers"]["From"] == PAGERDUTY_FROM
    assert put["body"] == {
        "incident": {
            "type": "incident_reference",
            "status": "resolved",
            "resolution": "console incident resolved",
        }
    }
    assert client.incident_resolve(page["id"])["status"] == "resolved"  # a retry: no second PUT
    assert len([r for r in pagerduty.received() if r["method"] == "PUT"]) == 1


def test_the_stand_in_refuses_what_pagerduty_refuses(pagerduty):
    client = PagerDutyClient.default()
    page = _page(client, "INC-20261126-032:esc:1:1")
    path = f"/incidents/{page['id']}"
    resolve = {"incident": {"type": "incident_reference", "status": "resolved"}}

    status, body = _raw(pagerduty, "PUT", path, resolve, sender="")
    assert status == 400 and "From header" in body["error"]["errors"][0]
    status, body = _raw(pagerduty, "PUT", path, {"type": "incident_reference", "status": "x"})
    assert status == 400 and body["error"]["errors"] == ["Incident object is required"]
    status, body = _raw(pagerduty, "PUT", path, {"incident": {"type": "incident", "status": "x"}})
    assert status == 400 and body["error"]["errors"] == ["Status must be acknowledged or resolved"]
    status, _ = _raw(pagerduty, "PUT", "/incidents/QNOPE01", resolve)
    assert status == 404
    assert pagerduty.state()["open"] == [page["id"]]  # nothing above changed it

    ack = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    assert _raw(pagerduty, "PUT", path, ack)[0] == 200
    assert _raw(pagerduty, "PUT", path, resolve)[0] == 200
    status, body = _raw(pagerduty, "PUT", path, ack)
    assert status == 400 and body["error"]["errors"] == ["Incident Already Resolved"]
    (held,) = pagerduty.state()["incidents"]
    assert held["status"] == "resolved" and held["resolved_at"]


def test_bulk_resolve_is_all_or_nothing(pagerduty):
    client = PagerDutyClient.default()
    first = _page(client, "INC-20261126-033:esc:1:1")
    second = _page(client, "INC-20261126-033:esc:1:2")
    ref = {"type": "incident_reference", "status": "resolved"}

    status, body = _raw(
        pagerduty,
        "PUT",
        "/incidents",
        {"incidents": [{"id": first["id"], **ref}, {"id": "QNOPE01", **ref}]},
    )
    assert status == 400 and "QNOPE01" in body["error"]["errors"][0]
    assert sorted(pagerduty.state()["open"]) == sorted([first["id"], second["id"]])
    status, _ = _raw(
        pagerduty, "PUT", "/incidents", {"incidents": [{"id": first["id"], **ref}]}, sender=""
    )
    assert status == 400

    status, body = _raw(
        pagerduty,
        "PUT",
        "/incidents",
        {"incidents": [{"id": first["id"], **ref}, {"id": second["id"], **ref}]},
    )
    assert status == 200 and [i["status"] for i in body["incidents"]] == ["resolved"] * 2
    assert pagerduty.state()["open"] == []
