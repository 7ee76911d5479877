"""The Statuspage adapter, with requests over HTTP against the Statuspage stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nexusops.common.errors import RetryableError
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)
from nexusops.integrations.statuspage.client import RequestPacer, StatuspageClient
from tests.support.standin_fixtures import STATUSPAGE_KEY, STATUSPAGE_PAGE

PAGE = f"/v1/pages/{STATUSPAGE_PAGE}"


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def _component_ids(client: StatuspageClient) -> dict[str, str]:
    return {c["name"]: c["id"] for c in client.components_list()}


def test_components_are_listed_and_updated(statuspage):
    client = StatuspageClient.default()
    ids = _component_ids(client)

    updated = client.component_update(ids["API"], "partial_outage")

    assert updated["status"] == "partial_outage"
    listing, patch = statuspage.received()
    assert listing["method"] == "GET" and listing["path"] == f"{PAGE}/components"
    assert patch["method"] == "PATCH" and patch["path"] == f"{PAGE}/components/{ids['API']}"
    assert patch["body"] == {"component": {"status": "partial_outage"}}
    assert all(r["headers"]["Authorization"] == f"OAuth {STATUSPAGE_KEY}" for r in (listing, patch))


def test_an_incident_is_opened_updated_and_resolved(statuspage):
    client = StatuspageClient.default()
    api = _component_ids(client)["API"]

    incident = client.incident_create(
        "Elevated API errors",
        "investigating",
        "We are investigating elevated error rates.",
        component_statuses={api: "major_outage"},
    )
    client.incident_update(incident["id"], status="identified", body="A bad deploy; rolling back.")
    resolved = client.incident_update(
        incident["id"], status="resolved", body="Fixed.", component_statuses={api: "operational"}
    )

    assert resolved["status"] == "resolved"
    create = statuspage.received(f"{PAGE}/incidents")[0]
    assert create["method"] == "POST"
    assert create["body"] == {
        "incident": {
            "name": "Elevated API errors",
            "status": "investigating",
            "body": "We are investigating elevated error rates.",
            "component_ids": [api],
            "components": {api: "major_outage"},
            "deliver_notifications": True,
        }
    }
    updates = statuspage.received(f"{PAGE}/incidents/{incident['id']}")
    assert [u["body"]["incident"]["status"] for u in updates] == ["identified", "resolved"]
    assert updates[1]["body"]["incident"]["components"] == {api: "operational"}
    page = statuspage.state()[STATUSPAGE_PAGE]
    assert page["components"][api]["status"] == "operational"
    assert [u["status"] for u in page["incidents"][incident["id"]]["incident_updates"]] == [
        "resolved",
        "identified",
        "investigating",
    ]


def test_a_maintenance_is_scheduled_in_utc(statuspage):
    client = StatuspageClient.default()
    db = _component_ids(client)["Notifications"]
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

    created = client.maintenance_create(
        "PostgreSQL minor upgrade",
        start,
        start + timedelta(hours=2),
        "Brief read-only period.",
        [db],
    )

    assert created["status"] == "scheduled"
    body = statuspage.received(f"{PAGE}/incidents")[0]["body"]["incident"]
    assert body["scheduled_for"] == "2026-12-01T02:00:00Z"
    assert body["scheduled_until"] == "2026-12-01T04:00:00Z"
    assert body["component_ids"] == [db] and body["status"] == "scheduled"


def test_bad_statuses_and_naive_times_are_refused_before_sending(statuspage):
    client = StatuspageClient.default()
    with pytest.raises(ValueError):
        client.incident_create("x", "on_fire")
    with pytest.raises(ValueError):
        client.component_update("c1", "broken")
    with pytest.raises(ValueError):
        client.maintenance_create("x", datetime(2026, 12, 1), datetime(2026, 12, 2))
    assert statuspage.received() == []


def test_pacing_allows_one_request_per_interval_with_an_injected_clock(statuspage):
    clock = FakeClock()
    client = StatuspageClient.default(pacer=RequestPacer(1.0, clock=clock.time, sleep=clock.sleep))

    for _ in range(3):
        client.components_list()

    assert clock.sleeps == [1.0, 1.0]
    assert len(statuspage.received()) == 3


def test_pacer_only_waits_for_what_is_left_of_the_interval():
    clock = FakeClock()
    pacer = RequestPacer(1.0, clock=clock.time, sleep=clock.sleep)

    assert pacer.wait() == 0
    clock.now += 0.75
    assert pacer.wait() == pytest.approx(0.25)
    clock.now += 5
    assert pacer.wait() == 0
    assert clock.sleeps == [0.25]


def test_pacing_spaces_real_requests_by_the_configured_interval(statuspage, settings):
    settings.STATUSPAGE_MIN_INTERVAL = 0.05
    client = StatuspageClient.default()

    for _ in range(4):
        client.components_list()

    times = [r["at"] for r in statuspage.received()]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.03  # 50 ms, less scheduling jitter


@pytest.mark.parametrize("status", [420, 429])
def test_rate_limit_answers_become_rate_limited(statuspage, status):
    statuspage.inject(status, times=1, retry_after=3)

    with pytest.raises(RateLimited) as caught:
        StatuspageClient.default().components_list()

    assert caught.value.retry_after == 3.0 and caught.value.status == status
    assert isinstance(caught.value, RetryableError)


def test_rate_limit_without_retry_after_waits_one_interval(statuspage):
    statuspage.inject(420, times=1)

    with pytest.raises(RateLimited) as caught:
        StatuspageClient.default(min_interval=1.0, pacer=RequestPacer(1.0)).components_list()

    assert caught.value.retry_after == 1.0


def test_500_becomes_vendor_unavailable(statuspage):
    statuspage.inject(500, times=1)

    with pytest.raises(VendorUnavailable):
        StatuspageClient.default().components_list()


def test_a_timeout_becomes_vendor_unavailable(statuspage):
    statuspage.inject(times=1, latency_ms=500)

    with pytest.raises(VendorUnavailable):
        StatuspageClient.default(timeout=0.1).components_list()


def test_unknown_objects_are_rejected_not_retried(statuspage):
    with pytest.raises(VendorRejected) as caught:
        StatuspageClient.default().component_update("c404", "operational")

    assert caught.value.status == 404 and not isinstance(caught.value, RetryableError)


def test_not_configured_when_settings_are_unset(settings):
    for name in ("STATUSPAGE_API_URL", "STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID"):
        if hasattr(settings, name):
            delattr(settings, name)

    with pytest.raises(NotConfigured):
        StatuspageClient.default()
    assert StatuspageClient.default_or_none() is None


def test_incidents_are_found_by_search_and_among_the_unresolved_by_metadata(statuspage):
    client = StatuspageClient.default()
    ours = client.incident_create(
        "Login failures",
        "investigating",
        "Ref INC-20261126-007.",
        metadata={"nexusops": {"incident_number": "INC-20261126-007"}},
    )
    client.incident_create("Something else", "investigating", "Unrelated.")

    [found] = client.incidents_search("inc-20261126-007")  # case-insensitive, in update bodies
    assert found["id"] == ours["id"]
    assert client.incidents_search("nothing like it") == []
    assert [i["name"] for i in client.incidents_unresolved(per_page=1)] == ["Something else"]
    assert [i["name"] for i in client.incidents_unresolved(page=2, per_page=1)] == [
        "Login failures"
    ]

    def match(i):
        return i["metadata"].get("nexusops", {}).get("incident_number") == "INC-20261126-007"

    assert client.incident_find(match)["id"] == ours["id"]
    query = statuspage.received(f"{PAGE}/incidents/unresolved")[-1]["query"]
    assert query == {"page": "1", "per_page": "100"}


def test_metadata_values_must_be_objects_as_on_statuspage(statuspage):
    with pytest.raises(VendorRejected) as caught:
        StatuspageClient.default().incident_create(
            "x",
            "investigating",
            metadata={"nexusops": "INC-1"},  # type: ignore[dict-item]
        )
    assert caught.value.status == 422
