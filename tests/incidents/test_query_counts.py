"""The list, the incident and its timeline cost the same number of queries for 5 rows or 300.

Each pair of tests uses one bound; a serializer that touches a relation per row (an N+1)
fails the larger case. Rows are bulk-created, with every relation the serializers read.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.models import Incident, Service, TimelineEvent
from incidents.selectors import incident_list, timeline
from nexusops.common import keyset, roles
from tests.factories import ServiceFactory, UserFactory, incident, severities

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
# Auth (session or token, user, permissions) + count + page + services prefetch: constant.
LIST_QUERIES = 8
# The page: session, user, profile, permissions (2), count, page, services prefetch, then the
# filter form's severities, services and commanders.
HTML_LIST_QUERIES = 12
DETAIL_QUERIES = 10
TIMELINE_QUERIES = 12


@pytest.fixture
def ic():
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def client(ic) -> APIClient:
    client = APIClient()
    client.force_login(ic)  # session auth, as the browser and the benchmark use it
    return client


def _incidents(count: int, commanders: list) -> None:
    sev = severities()
    services = [ServiceFactory(slug=f"svc-{i}") for i in range(3)]
    rows = Incident.objects.bulk_create(
        Incident(
            number=f"INC-20260302-{i:03d}",
            day=T0.date(),
            seq=i,
            title=f"Incident {i}",
            severity=sev[f"P{i % 4}"],
            status="triggered" if i % 2 else "resolved",
            detected_at=T0 - dt.timedelta(minutes=i),
            commander=commanders[i % len(commanders)],
        )
        for i in range(1, count + 1)
    )
    Through = Incident.services.through
    Through.objects.bulk_create(
        Through(incident_id=row.pk, service_id=services[j].pk)
        for row in rows
        for j in range(row.pk % 3 + 1)
    )


def _events(inc: Incident, count: int, actors: list) -> None:
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            incident=inc,
            kind="note" if i % 3 else "update",
            message=f"note {i}",
            actor=actors[i % len(actors)],
            actor_name=actors[i % len(actors)].username,
            visibility="internal" if i % 3 else "public",
            created_at=T0 + dt.timedelta(seconds=i),
        )
        for i in range(count)
    )


@pytest.mark.parametrize("count", [5, 200])
def test_incident_list_api_queries_do_not_grow(client, ic, count, django_assert_max_num_queries):
    others = [UserFactory(username=f"ic{i}", role=roles.INCIDENT_COMMANDER) for i in range(3)]
    _incidents(count, [ic, None, *others])
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/api/incidents/", {"page_size": 500})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == count and len(body["results"]) == count
    assert all(r["services"] for r in body["results"])
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/api/incidents/", {"status": "open", "page_size": 500})
    assert response.json()["count"] == (count + 1) // 2


@pytest.mark.parametrize("count", [5, 200])
def test_incident_list_selector_queries_do_not_grow(ic, count, django_assert_max_num_queries):
    _incidents(count, [ic, None])
    with django_assert_max_num_queries(2):
        rows = [
            (
                i.number,
                i.severity.code,
                i.commander and i.commander.username,
                list(i.services.all()),
            )
            for i in incident_list()
        ]
    assert len(rows) == count
    assert all(isinstance(s, Service) for *_, services in rows for s in services)


@pytest.mark.parametrize("count", [60, 300])
def test_a_deep_cursor_page_costs_the_queries_of_the_first(
    client, ic, count, django_assert_max_num_queries
):
    """Same statements for page 1 and for the page 10 rows from the end, at 60 rows or 300,
    with and without a search; the count stays bounded (``test_list_paging``)."""
    _incidents(count, [ic, None])
    deep = keyset.cursor_at(incident_list(), count - 10)
    for params in ({}, {"cursor": deep}, {"cursor": deep, "q": "Incident", "status": "resolved"}):
        with django_assert_max_num_queries(LIST_QUERIES):
            response = client.get("/api/incidents/", params)
        assert response.status_code == 200, response.content
        assert response.json()["results"] and response.json()["count"] > 10
        with django_assert_max_num_queries(HTML_LIST_QUERIES):
            page = client.get(reverse("incident-list"), params)
        assert page.status_code == 200 and b'class="inc-number"' in page.content
    assert [
        i["number"] for i in client.get("/api/incidents/", {"cursor": deep}).json()["results"]
    ] == [i.number for i in incident_list()[count - 10 :]]


@pytest.mark.parametrize("count", [60, 300])
def test_every_sort_pages_deep_and_back_in_bounded_queries(
    client, ic, count, django_assert_max_num_queries
):
    """An order that changes direction (severity, SLA) reads up to one index range per key,
    nearest first, so a page may take two more reads than the default order, and "Newer"
    one more when it reaches the first page (which it reads again in full); the services are
    still prefetched once per page. Fixed bounds, the same at 60 rows or 300."""
    _incidents(count, [ic, None])
    Incident.objects.filter(pk__in=[i.pk for i in Incident.objects.all()[::4]]).update(
        sla_next_due_at=T0 + dt.timedelta(hours=1)
    )
    for sort in ("detected", "oldest", "severity", "sla", "number"):
        queryset = incident_list(sort=sort)
        deep = keyset.cursor_at(queryset, count // 2)
        with django_assert_max_num_queries(LIST_QUERIES + 2):
            forward = client.get("/api/incidents/", {"cursor": deep, "ordering": sort})
        assert forward.status_code == 200, forward.content
        with django_assert_max_num_queries(LIST_QUERIES + 3):
            back = client.get(forward.json()["previous"])
        numbers = [i.number for i in queryset]
        assert [i["number"] for i in forward.json()["results"]] == numbers[
            count // 2 : count // 2 + 50
        ]
        # Fewer than a page before the cursor: "Newer" shows the whole first page.
        newer = numbers[count // 2 - 50 : count // 2] if count // 2 >= 50 else numbers[:50]
        assert [i["number"] for i in back.json()["results"]] == newer


@pytest.mark.parametrize("count", [5, 300])
def test_incident_and_timeline_api_queries_do_not_grow(
    client, ic, count, django_assert_max_num_queries
):
    inc = incident(actor=ic)
    for i in range(4):
        UserFactory(username=f"r{i}", role=roles.RESPONDER)
    inc.responders.set(UserFactory(username=f"r{i}") for i in range(4))
    actors = [ic, *(UserFactory(username=f"a{i}", role=roles.RESPONDER) for i in range(5))]
    _events(inc, count, actors)

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(f"/api/incidents/{inc.number}/")
    assert response.status_code == 200 and len(response.json()["responders"]) == 4

    with django_assert_max_num_queries(TIMELINE_QUERIES):
        response = client.get(f"/api/incidents/{inc.number}/timeline/", {"page_size": 500})
    assert response.status_code == 200
    assert response.json()["count"] == count + 1  # and "declared"
    assert {e["actor"] for e in response.json()["results"]} >= {"iris", "a1"}

    # A page from a cursor near the end, and back: the same statements, one being the count.
    position = max(count - 10, 1)
    deep = keyset.cursor_at(timeline(incident=inc, user=ic), position)
    url = f"/api/incidents/{inc.number}/timeline/"
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        response = client.get(url, {"cursor": deep})
    assert response.status_code == 200 and len(response.json()["results"]) == count + 1 - position
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        assert client.get(response.json()["previous"]).status_code == 200

    with django_assert_max_num_queries(3):
        events = [(e.kind, e.actor and e.actor.username) for e in timeline(incident=inc, user=ic)]
    assert len(events) == count + 1


@pytest.mark.parametrize("path", ["incident-detail", "incident-timeline"])
def test_the_command_page_reads_no_statement_that_grows_with_the_timeline(client, ic, path):
    """Every statement over the timeline is bounded by a LIMIT (the newest 50, the kinds' skip
    scan probes one row per kind): a DISTINCT, COUNT or read of every event would make the
    page grow with its timeline (issue 15 item 3)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inc = incident(actor=ic)
    actors = [ic, UserFactory(username="a1", role=roles.RESPONDER)]
    _events(inc, 120, actors)
    older = TimelineEvent.objects.filter(incident=inc).order_by("-created_at", "-id")[70].pk
    client.force_login(ic)
    for params in ({}, {"kind": "note"}, {"before": older}, {"before": older, "kind": "update"}):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(path, args=[inc.number]), params)
        assert response.status_code == 200
        reads = [q["sql"] for q in queries if '"incidents_timelineevent"' in q["sql"]]
        assert len(reads) >= 2  # the page of events and the kinds
        for sql in reads:
            assert "LIMIT" in sql, sql
            assert "COUNT(" not in sql.upper() and 'DISTINCT "incidents_timelineevent"' not in sql
