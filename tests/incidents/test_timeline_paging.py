"""The command page's timeline: older pages and the kind filter cost the same at any length.

Events here are not in id order: a backdated event (a Slack message imported late, a note
about something seen earlier) has a higher id than newer ones. Older pages follow the
timeline's own order, newest ``created_at`` first, so every event shows exactly once.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import selectors
from incidents.models import Incident, TimelineEvent
from nexusops.common import keyset, roles
from tests.factories import UserFactory, incident

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
KINDS = ("note", "update", "status_changed", "checklist", "escalated")


@pytest.fixture
def ic():
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def stakeholder():
    return UserFactory(username="sam", role=roles.STAKEHOLDER)


def _events(inc: Incident, count: int, actor) -> None:  # noqa: ANN001
    """``count`` events, created in an order that is not their time order: ids rise while
    every seventh event is backdated an hour."""
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            incident=inc,
            kind=KINDS[i % 4],  # "escalated" never appears
            message=f"event {i:03d}",
            actor=actor,
            actor_name=actor.username,
            # Only updates and status changes are public.
            visibility="public" if i % 4 in (1, 2) else "internal",
            created_at=T0 + dt.timedelta(seconds=i) - dt.timedelta(hours=(i % 7 == 0)),
        )
        for i in range(count)
    )


def _messages(body: str) -> list[str]:
    return re.findall(r"event \d{3}", body)


@pytest.mark.parametrize("who", ["ic", "stakeholder"])
def test_older_pages_show_every_event_once_in_timeline_order(client, ic, stakeholder, who):
    inc = incident(actor=ic)
    _events(inc, 130, ic)
    user = ic if who == "ic" else stakeholder
    expected = [
        e.message
        for e in selectors.timeline(incident=inc, user=user)
        if e.message.startswith("event")
    ]
    client.force_login(user)
    seen, params = [], {}
    url = reverse("incident-timeline", args=[inc.number])
    while True:
        body = client.get(url, params, HTTP_HX_REQUEST="true").content.decode()
        seen += _messages(body)
        older = re.search(r"before=(\d+)", body)
        if not older:
            break
        params = {"before": older.group(1)}
    assert seen == expected
    assert len(seen) == (130 if who == "ic" else 65)


def test_older_pages_keep_the_kind_filter(client, ic):
    inc = incident(actor=ic)
    _events(inc, 300, ic)  # 75 notes: two pages
    client.force_login(ic)
    url = reverse("incident-timeline", args=[inc.number])
    first = client.get(url, {"kind": "note"}, HTTP_HX_REQUEST="true").content.decode()
    before = re.search(r"before=(\d+)", first).group(1)
    assert "kind=note" in first
    second = client.get(url, {"kind": "note", "before": before}, HTTP_HX_REQUEST="true")
    notes = [
        e.message
        for e in selectors.timeline(incident=inc, user=ic, kinds=["note"])
        if e.message.startswith("event")
    ]
    assert _messages(first) + _messages(second.content.decode()) == notes


def test_the_kind_filter_lists_the_kinds_each_reader_may_see(ic, stakeholder):
    inc = incident(actor=ic)
    _events(inc, 40, ic)
    other = incident(title="Another one", actor=ic)
    TimelineEvent.objects.create(
        incident=other, kind="escalated", message="x", created_at=T0, visibility="public"
    )
    for user in (ic, stakeholder):
        distinct = sorted(
            set(selectors.timeline(incident=inc, user=user).values_list("kind", flat=True))
        )
        assert selectors.timeline_kinds(incident=inc, user=user) == distinct
    assert "escalated" not in selectors.timeline_kinds(incident=inc, user=ic)
    assert {"note", "checklist"} <= set(selectors.timeline_kinds(incident=inc, user=ic))
    public = selectors.timeline_kinds(incident=inc, user=stakeholder)
    assert {"update", "status_changed"} <= set(public) and "note" not in public


# --- the API's timeline: cursor paging like the API list ---------------------------------------


def _api(user) -> APIClient:  # noqa: ANN001
    api = APIClient()
    api.force_login(user)
    return api


@pytest.mark.parametrize("who", ["ic", "stakeholder"])
def test_the_api_timeline_pages_by_cursor_through_every_event_once(ic, stakeholder, who):
    inc = incident(actor=ic)
    _events(inc, 130, ic)
    user = ic if who == "ic" else stakeholder
    expected = [e.pk for e in selectors.timeline(incident=inc, user=user)]
    api = _api(user)
    url = f"/api/incidents/{inc.number}/timeline/"
    first = api.get(url, {"page_size": 20}).json()
    assert (first["count"], first["count_exact"], first["previous"]) == (len(expected), True, None)
    pages, body = [first], first
    while body["next"]:
        assert "cursor=" in body["next"] and "page_size=20" in body["next"]
        body = api.get(body["next"]).json()
        pages.append(body)
    assert [e["id"] for page in pages for e in page["results"]] == expected
    # Back from the last page, newer pages show the same events again.
    back = api.get(pages[-1]["previous"]).json()
    assert [e["id"] for e in back["results"]] == [e["id"] for e in pages[-2]["results"]]


def test_the_api_timeline_keeps_its_kind_filter_on_the_next_page(ic):
    inc = incident(actor=ic)
    _events(inc, 300, ic)  # 75 notes
    api = _api(ic)
    first = api.get(f"/api/incidents/{inc.number}/timeline/", {"kind": "note"}).json()
    second = api.get(first["next"]).json()
    notes = [e.pk for e in selectors.timeline(incident=inc, user=ic, kinds=["note"])]
    assert [e["id"] for e in first["results"] + second["results"]] == notes
    assert second["next"] is None and first["count"] == 75


def test_the_api_timeline_count_stops_at_its_bound(ic):
    inc = incident(actor=ic)
    _events(inc, keyset.COUNT_LIMIT + 5, ic)
    body = _api(ic).get(f"/api/incidents/{inc.number}/timeline/").json()
    assert (body["count"], body["count_exact"], len(body["results"])) == (
        keyset.COUNT_LIMIT,
        False,
        50,
    )


@pytest.mark.parametrize("query", [{"page": "2"}, {"cursor": "not-a-cursor"}])
def test_the_api_timeline_refuses_page_numbers_and_bad_cursors(ic, query):
    inc = incident(actor=ic)
    response = _api(ic).get(f"/api/incidents/{inc.number}/timeline/", query)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(query)
