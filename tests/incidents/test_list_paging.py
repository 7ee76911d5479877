"""The incident list pages by cursor and counts up to a bound (issue 15 item 4).

Rows are bulk-created with ties (several incidents detected at the same second), open and
closed ones, NULL and set SLA deadlines, so every sort order's keyset is exercised where it
is hardest: equal leading keys and NULLs. Walking a list page by page, forwards and back,
must give exactly the rows of the unpaged queryset, in its order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import selectors
from incidents.models import Incident, Status
from nexusops.common import keyset, roles
from tests.factories import ServiceFactory, UserFactory, severities

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LIST = "/api/incidents/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ic():
    return UserFactory(username="iris", first_name="Iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def api(ic) -> APIClient:
    client = APIClient()
    client.force_login(ic)
    return client


def bulk(count: int, *, commander=None, first: int = 1, title: str = "Incident") -> list[Incident]:
    """``count`` incidents; every third shares its detection second with the one before, every
    fifth is open, every fourth has an SLA deadline, services alternate billing/redis."""
    sev = severities()
    billing = ServiceFactory(slug="billing-service")
    redis = ServiceFactory(slug="redis")
    rows = Incident.objects.bulk_create(
        Incident(
            number=f"INC-20260302-{i:04d}",
            day=T0.date(),
            seq=i,
            title=f"{title} {i} {'billing' if i % 2 else 'cache'}",
            severity=sev[f"P{i % 4}"],
            status=Status.INVESTIGATING if i % 5 == 0 else Status.CLOSED,
            detected_at=T0 - dt.timedelta(seconds=i - (i % 3 == 0)),
            sla_next_due_at=T0 + dt.timedelta(minutes=i % 7) if i % 4 == 0 else None,
            commander=commander,
        )
        for i in range(first, first + count)
    )
    Through = Incident.services.through
    Through.objects.bulk_create(
        Through(incident_id=row.pk, service_id=(billing if row.seq % 2 else redis).pk)
        for row in rows
    )
    return rows


def walk(size: int, **filters) -> tuple[list[list[str]], list[list[str]]]:
    """Every page forwards to the end, then back to the first with the previous cursors."""
    forward, cursor = [], None
    while True:
        page = selectors.incident_page(cursor=cursor, size=size, **filters)
        forward.append([i.number for i in page.rows])
        if page.next is None:
            break
        cursor = page.next
    backward = [forward[-1]]
    cursor = page.previous
    while cursor:
        page = selectors.incident_page(cursor=cursor, size=size, **filters)
        backward.append([i.number for i in page.rows])
        cursor = page.previous
    return forward, backward[::-1]


@pytest.mark.parametrize("sort", sorted(selectors.SORTS))
def test_every_sort_pages_through_every_row_once_forwards_and_back(sort):
    bulk(47)
    expected = [i.number for i in selectors.incident_list(sort=sort)]
    forward, backward = walk(10, sort=sort)
    assert [n for page in forward for n in page] == expected
    assert [len(p) for p in forward] == [10, 10, 10, 10, 7]
    assert backward == forward


def test_filters_and_search_combined_page_the_same_rows_as_the_unpaged_list():
    bulk(120)
    filters = {"q": "billing", "status": "closed", "service": "billing-service", "sort": "sla"}
    expected = [i.number for i in selectors.incident_list(**filters)]
    assert 30 < len(expected) < 60
    forward, backward = walk(25, **filters)
    assert [n for page in forward for n in page] == expected
    assert backward == forward


def test_a_row_declared_while_reading_neither_repeats_nor_hides_a_row():
    bulk(30)
    first = selectors.incident_page(cursor=None, size=10)
    # A new open incident sorts into page 1: with an OFFSET, page 1's last row would come
    # again at the top of page 2.
    bulk(1, first=900)
    second = selectors.incident_page(cursor=first.next, size=10)
    seen = {i.number for i in first.rows}
    assert not seen & {i.number for i in second.rows}
    expected = [i.number for i in selectors.incident_list() if i.number != "INC-20260302-0900"]
    assert [i.number for i in [*first.rows, *second.rows]] == expected[:20]
    assert second.start == 10


def test_the_count_stops_at_its_bound_and_says_so():
    bulk(40)
    small = selectors.incident_page(cursor=None, size=50)
    assert (small.count, small.count_exact, small.next) == (40, True, None)
    bulk(keyset.COUNT_LIMIT + 5 - 40, first=41)
    big = selectors.incident_page(cursor=None, size=50)
    assert (big.count, big.count_exact) == (keyset.COUNT_LIMIT, False)
    exact = selectors.incident_page(cursor=None, size=50, q="billing")
    assert (exact.count, exact.count_exact) == ((keyset.COUNT_LIMIT + 5 + 1) // 2, True)


def test_a_deep_page_is_a_range_scan_from_the_cursor_not_an_offset():
    bulk(300)
    queryset = selectors.incident_list()
    cursor = keyset.cursor_at(queryset, 250)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.incident_page(cursor=cursor, size=20)
    assert [i.number for i in page.rows] == [i.number for i in queryset[250:270]]
    assert page.start == 250
    [select] = [q["sql"] for q in queries if "LIMIT 21" in q["sql"]]
    assert "OFFSET" not in select
    # One row value over the open-first index's columns, not an OR per key.
    assert re.search(
        r"\(CASE WHEN .+, \"incidents_incident\".\"detected_at\", "
        r"\"incidents_incident\".\"id\"\) < \(",
        select,
    )
    [count] = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    assert f"LIMIT {keyset.COUNT_LIMIT + 1}" in count


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "eyJrIjoiLWlkIn0", "e30", "bnVsbA"],
    ids=["not base64 json", "missing fields", "empty object", "null"],
)
def test_a_cursor_the_list_did_not_give_out_is_refused(cursor):
    bulk(3)
    with pytest.raises(keyset.InvalidCursor):
        selectors.incident_page(cursor=cursor, size=2)


def test_a_cursor_of_another_sort_or_with_forged_values_is_refused():
    bulk(30)
    by_number = selectors.incident_page(cursor=None, size=10, sort="number").next
    with pytest.raises(keyset.InvalidCursor, match="another sort"):
        selectors.incident_page(cursor=by_number, size=10)
    keys = keyset.keys_of(selectors.incident_list())
    good = selectors.incident_page(cursor=None, size=10).next
    values, _, _ = keyset.decode(good, keys)

    def forge(values) -> str:
        body = {"k": "-open_first,-detected_at,-id", "v": values, "b": 0, "s": 10}
        return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()

    same = selectors.incident_page(cursor=forge([0, values[1].isoformat(), values[2]]), size=10)
    assert same.rows == selectors.incident_page(cursor=good, size=10).rows
    for bad in (
        ["x", "2026-03-02T10:00:00+00:00", 1],
        [0, "not a date", 1],
        [0, None, 1],
        [0, "2026-03-02T10:00:00", 1],
        [0, "2026-03-02T10:00:00+00:00", True],
    ):
        with pytest.raises(keyset.InvalidCursor):
            selectors.incident_page(cursor=forge(bad), size=10)


# ---- the HTML pager (browser-free) ---------------------------------------------------------


def _summary(body: str) -> str:
    return re.search(r"data-pager-summary>([^<]*)<", body).group(1)


def _link(body: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" hx-get="[^"]*"[^>]*rel="{rel}"', body)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_html_pager_walks_older_and_newer_and_counts_honestly(client, ic):
    bulk(keyset.COUNT_LIMIT + 10, commander=ic)
    client.force_login(ic)
    url = reverse("incident-list")
    first = client.get(url, {"q": "billing"}).content.decode()
    assert _summary(first) == "1–50 of 505 incidents"
    assert _link(first, "prev") is None
    older = _link(first, "next")
    assert older.startswith("?q=billing&cursor=")
    second = client.get(url + older, **HTMX).content.decode()
    assert "<html" not in second and 'id="incident-results"' in second
    assert _summary(second) == "51–100 of 505 incidents"
    assert "Newest" not in second  # Newer is the first page already
    third = client.get(url + _link(second, "next")).content.decode()
    assert _summary(third) == "101–150 of 505 incidents" and "⇤ Newest" in third
    back = client.get(url + _link(third, "prev")).content.decode()
    assert _summary(back) == "51–100 of 505 incidents"
    assert re.findall(r'class="inc-number"[^>]*>([^<]+)<', back) == re.findall(
        r'class="inc-number"[^>]*>([^<]+)<', second
    )
    everything = client.get(url).content.decode()
    assert _summary(everything) == f"1–50 of {keyset.COUNT_LIMIT:,}+ incidents"


def test_the_html_list_starts_again_on_a_stale_link_and_says_so(client, ic):
    bulk(60)
    client.force_login(ic)
    url = reverse("incident-list")
    by_number = _link(client.get(url, {"sort": "number"}).content.decode(), "next")
    # The same cursor with the sort changed (an edited link): the first page, and a notice.
    response = client.get(url + by_number.replace("sort=number", "sort=oldest"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "That page link is no longer valid" in body
    assert _summary(body) == "1–50 of 60 incidents"
    small = client.get(url, {"q": "Incident 7 "}).content.decode()
    assert _summary(small) == "1 incident" and 'rel="next"' not in small


# ---- the API -------------------------------------------------------------------------------


def test_the_api_pages_by_cursor_with_a_bounded_count(api):
    bulk(keyset.COUNT_LIMIT + 10)
    first = api.get(LIST, {"page_size": 100}).json()
    assert (first["count"], first["count_exact"], first["previous"]) == (
        keyset.COUNT_LIMIT,
        False,
        None,
    )
    assert len(first["results"]) == 100 and "page_size=100" in first["next"]
    second = api.get(first["next"]).json()
    assert second["previous"] and len(second["results"]) == 100
    numbers = [i["number"] for i in [*first["results"], *second["results"]]]
    assert numbers == [i.number for i in selectors.incident_list()[:200]]
    assert [i["number"] for i in api.get(second["previous"]).json()["results"]] == numbers[:100]

    assert len(api.get(LIST, {"page_size": 9999}).json()["results"]) == 500  # the cap
    assert len(api.get(LIST, {"page_size": 0}).json()["results"]) == 50  # the default

    deep = keyset.cursor_at(selectors.incident_list(), 900)
    page = api.get(LIST, {"cursor": deep, "page_size": 50}).json()
    assert [i["number"] for i in page["results"]] == [
        i.number for i in selectors.incident_list()[900:950]
    ]
    searched = api.get(LIST, {"q": "billing", "status": "closed", "ordering": "sla"}).json()
    expected = [i.number for i in selectors.incident_list(q="billing", status="closed", sort="sla")]
    assert searched["count"] == len(expected) and searched["count_exact"] is True
    assert [i["number"] for i in searched["results"]] == expected[:50]
    follow = api.get(searched["next"]).json()
    assert [i["number"] for i in follow["results"]] == expected[50:100]
    assert "q=billing" in searched["next"] and "ordering=sla" in searched["next"]


def test_the_api_refuses_a_bad_cursor_and_the_old_page_numbers_with_400(api):
    bulk(5)
    for params, field in (({"cursor": "garbage"}, "cursor"), ({"page": 2}, "page")):
        response = api.get(LIST, params)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [field]
    cursor = api.get(LIST, {"page_size": 2, "ordering": "number"}).json()["next"]
    response = api.get(cursor.replace("ordering=number", "ordering=oldest"))
    assert response.status_code == 400
    assert "another sort" in response.json()["error"]["fields"]["cursor"][0]


def test_keyset_refuses_an_order_it_cannot_follow():
    """An order without a unique last key could skip or repeat rows; a nullable key must say
    where its NULLs go, or SQLite and PostgreSQL would page it differently."""
    for ordering in (("detected_at",), ("sla_next_due_at", "id"), ()):
        with pytest.raises(ValueError):
            keyset.keys_of(Incident.objects.order_by(*ordering))
    keys = keyset.keys_of(
        Incident.objects.order_by(F("sla_next_due_at").asc(nulls_last=True), "id")
    )
    assert [(k.name, k.nullable) for k in keys] == [("sla_next_due_at", True), ("id", False)]


def _page_selects(size: int, **filters) -> list[str]:
    """The SQL of the page reads (not the count, not the prefetch) of one list page."""
    with CaptureQueriesContext(connection) as queries:
        selectors.incident_page(size=size, **filters)
    return [q["sql"] for q in queries if f"LIMIT {size + 1}" in q["sql"]]


@pytest.mark.postgres
@pytest.mark.parametrize("sort", sorted(selectors.SORTS))
def test_every_sort_reads_its_first_and_deep_pages_in_index_order(sort):
    """No offered sort sorts the rows it pages over (issue 15): with sorting switched off
    in the planner, each page read of the first page and of a deep page is still planned
    without a Sort node, i.e. an index holds the order from the cursor on."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    bulk(300)
    queryset = selectors.incident_list(sort=sort)
    selects = _page_selects(20, cursor=None, sort=sort)
    selects += _page_selects(20, cursor=keyset.cursor_at(queryset, 150), sort=sort)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        for select in selects:
            cursor.execute(f"EXPLAIN {select}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan, (sort, select, plan)


def test_the_severity_order_follows_each_incidents_copy_of_the_rank():
    """The rank is copied on create, bulk create and a severity change, and again when a
    manager re-ranks a severity."""
    from incidents.services import incident_update, severity_ranks_sync

    rows = bulk(8)
    sev = severities()
    assert all(row.severity_rank == row.severity.rank for row in rows)
    ranks = dict(Incident.objects.values_list("number", "severity_rank"))
    assert ranks == {row.number: sev[f"P{row.seq % 4}"].rank for row in rows}
    manager = UserFactory(username="mo", role=roles.INCIDENT_COMMANDER)
    open_row = next(r for r in rows if r.status == Status.INVESTIGATING)
    changed = incident_update(incident=open_row, actor=manager, severity="P0")
    assert Incident.objects.get(pk=changed.pk).severity_rank == sev["P0"].rank
    # P3 becomes the most severe: its incidents move to the top of the severity order.
    Severity = type(sev["P3"])
    Severity.objects.filter(code="P0").update(rank=90)
    Severity.objects.filter(code="P3").update(rank=0)
    assert severity_ranks_sync() == sum(
        1 for r in Incident.objects.all() if r.severity.code in ("P0", "P3")
    )
    first = selectors.incident_page(cursor=None, size=8, sort="severity").rows
    assert [i.severity.code for i in first] == ["P3", "P3", "P1", "P2", "P2", "P0", "P0", "P0"]
    assert severity_ranks_sync() == 0
