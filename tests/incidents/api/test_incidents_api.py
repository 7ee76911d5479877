"""The incident API: the lifecycle end to end, and every kind of bad input changing nothing."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.models import ChecklistItem, Incident, TimelineEvent
from nexusops.common import clock, roles
from nexusops.engine.models import Timer
from postmortems.models import PostMortem
from postmortems.services.document import postmortem_schedule
from tests.factories import ServiceFactory, UserFactory, incident, severities

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LIST = "/api/incidents/"


def url(number: str, suffix: str = "") -> str:
    return f"/api/incidents/{number}/{suffix}"


@pytest.fixture
def ic():
    return UserFactory(username="iris", first_name="Iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def api(ic) -> APIClient:
    client = APIClient()
    client.force_authenticate(ic)
    return client


@pytest.fixture
def catalog():
    severities()
    for slug in ("api-gateway", "billing-service", "redis"):
        ServiceFactory(slug=slug)


@pytest.fixture
def inc(ic, catalog) -> Incident:
    return incident(title="Checkout 502s", severity_code="P2", actor=ic)


def state(number: str) -> dict:
    """Everything a write could touch, to assert that a refused one touched nothing."""
    row = Incident.objects.filter(number=number).values().get()
    pk = row["id"]
    return {
        "incident": row,
        "services": sorted(Incident.objects.get(pk=pk).services.values_list("slug", flat=True)),
        "responders": sorted(
            Incident.objects.get(pk=pk).responders.values_list("username", flat=True)
        ),
        "events": list(TimelineEvent.objects.filter(incident_id=pk).values_list("id", flat=True)),
        "checklist": list(
            ChecklistItem.objects.filter(incident_id=pk).values_list("key", "done_at")
        ),
        "timers": list(
            Timer.objects.filter(incident_id=pk).values_list("kind", "due_at", "cancelled_at")
        ),
    }


def error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert set(body) == {"code", "message", "fields"}
    assert body["message"]
    if code:
        assert body["code"] == code, body
    return body


# --- declare --------------------------------------------------------------------------------


DECLARE = {
    "title": "Checkout API returns 502",
    "severity": "P1",
    "services": ["api-gateway", "billing-service"],
    "summary": "5xx at 12% on /checkout.",
    "impact_users": 1200,
    "impact_percent": "12.5",
    "impact_description": "Customers cannot pay.",
    "major_customer_impact": True,
}


def test_declare_answers_201_with_location_etag_and_the_incident(api, catalog):
    response = api.post(LIST, DECLARE, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    number = body["number"]
    assert response["Location"] == url(number)
    assert response["ETag"] == '"1"'
    assert body["status"] == "triggered"
    assert body["severity"] == "P1"
    assert body["services"] == ["api-gateway", "billing-service"]
    assert body["impact_percent"] == "12.50"
    assert body["major_customer_impact"] is True and body["data_breach"] is False
    assert body["source"] == "api"
    assert body["version"] == 1
    assert body["transitions"] == ["acknowledge"]
    assert {t["kind"] for t in body["pending_timers"]} == {"ack_deadline", "first_update"}
    assert body["sla_next_kind"] in ("ack_deadline", "first_update")
    assert len(body["checklist"]) > 10
    declared = TimelineEvent.objects.get(incident__number=number)
    assert (declared.kind, declared.channel, declared.actor_name) == ("declared", "api", "Iris")


BAD_DECLARE = [
    ("unknown severity", {"severity": "P7"}, "severity"),
    ("unknown service", {"services": ["api-gateway", "no-such-service"]}, "services"),
    ("empty title", {"title": "   "}, "title"),
    ("title over 200", {"title": "x" * 201}, "title"),
    ("impact over 100%", {"impact_percent": 150}, "impact_percent"),
    ("negative users", {"impact_users": -3}, "impact_users"),
    ("missing severity", {"severity": None}, "severity"),
    ("services not a list", {"services": "api-gateway"}, "services"),
    ("detected in the future", {"detected_at": "2999-01-01T00:00:00Z"}, "detected_at"),
]


@pytest.mark.parametrize(
    ("change", "field"), [c[1:] for c in BAD_DECLARE], ids=[c[0] for c in BAD_DECLARE]
)
def test_bad_declare_is_400_and_writes_nothing(api, catalog, change, field):
    payload = {**DECLARE, **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = api.post(LIST, payload, format="json")
    body = error(response, 400)
    assert field in body["fields"], body
    assert not Incident.objects.exists()
    assert not TimelineEvent.objects.exists()
    assert not ChecklistItem.objects.exists()


def test_malformed_json_is_400_and_writes_nothing(api, inc):
    before = state(inc.number)
    bad = '{"title": "oops",'
    error(api.post(LIST, bad, content_type="application/json"), 400, "parse_error")
    response = api.patch(url(inc.number), bad, content_type="application/json", HTTP_IF_MATCH='"1"')
    error(response, 400, "parse_error")
    response = api.post(url(inc.number, "transitions/"), bad, content_type="application/json")
    error(response, 400, "parse_error")
    assert Incident.objects.count() == 1
    assert state(inc.number) == before


def test_html_in_a_title_comes_back_verbatim_as_json_data(api, catalog):
    title = '<script>alert("x")</script> <b>checkout</b> & co'
    response = api.post(LIST, {**DECLARE, "title": title}, format="json")
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    number = response.json()["number"]
    got = api.get(url(number))
    assert got["Content-Type"] == "application/json"
    assert got.json()["title"] == title
    assert api.get(LIST, {"q": "script"}).json()["results"][0]["title"] == title


# --- retrieve and update -------------------------------------------------------------------


def test_retrieve_has_etag_and_everything_the_command_page_needs(api, inc, ic):
    response = api.get(url(inc.number.lower()))
    assert response.status_code == 200
    assert response["ETag"] == f'"{inc.version}"'
    body = response.json()
    assert body["number"] == inc.number
    assert body["created_by"] == "iris" and body["commander"] is None
    assert body["responders"] == []
    assert body["severity_name"] == "P2"
    assert [c["key"] for c in body["checklist"]][:2] == ["ack_pagerduty", "create_channel"]
    assert body["pending_timers"] == [
        {"kind": "ack_deadline", "due_at": body["pending_timers"][0]["due_at"]}
    ]


def test_unknown_number_is_404_with_the_error_body(api, catalog):
    error(api.get(url("INC-20990101-001")), 404, "not_found")
    error(api.post(url("INC-20990101-001", "transitions/"), {"action": "acknowledge"}), 404)
    error(api.get(url("INC-20990101-001", "timeline/")), 404)


def test_patch_with_if_match_updates_and_bumps_the_etag(api, inc):
    response = api.patch(
        url(inc.number),
        {"severity": "P1", "services": ["redis"], "impact_percent": "40", "data_breach": True},
        format="json",
        HTTP_IF_MATCH=f'"{inc.version}"',
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["severity"] == "P1" and body["services"] == ["redis"]
    assert body["impact_percent"] == "40.00" and body["data_breach"] is True
    assert body["version"] == inc.version + 1
    assert response["ETag"] == f'"{inc.version + 1}"'
    updated = TimelineEvent.objects.filter(incident=inc, kind="updated").get()
    assert updated.channel == "api"
    assert "Severity changed P2 → P1" in updated.message


def test_patch_with_a_version_field_works_too(api, inc):
    response = api.patch(url(inc.number), {"title": "New title", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "New title"


def test_patch_without_a_version_is_428_and_writes_nothing(api, inc):
    before = state(inc.number)
    body = error(api.patch(url(inc.number), {"title": "x"}, format="json"), 428)
    assert body["code"] == "precondition_required"
    assert "If-Match" in body["message"]
    assert state(inc.number) == before


def test_stale_if_match_is_412_and_stale_version_field_is_409(api, inc):
    api.patch(url(inc.number), {"title": "First edit"}, format="json", HTTP_IF_MATCH='"1"')
    before = state(inc.number)
    stale = api.patch(url(inc.number), {"title": "Second edit"}, format="json", HTTP_IF_MATCH='"1"')
    body = error(stale, 412, "stale_version")
    assert "version 2" in body["message"]
    error(
        api.patch(url(inc.number), {"title": "Second edit", "version": 1}, format="json"),
        409,
        "stale_version",
    )
    error(
        api.post(
            url(inc.number, "transitions/"),
            {"action": "acknowledge"},
            format="json",
            HTTP_IF_MATCH='W/"1"',
        ),
        412,
        "stale_version",
    )
    error(
        api.post(url(inc.number, "assign/"), {"commander": "iris", "version": 1}, format="json"),
        409,
        "stale_version",
    )
    assert state(inc.number) == before


def test_malformed_or_contradicting_if_match_is_400(api, inc):
    before = state(inc.number)
    error(api.patch(url(inc.number), {"title": "x"}, format="json", HTTP_IF_MATCH="*"), 400)
    body = error(
        api.patch(
            url(inc.number), {"title": "x", "version": 2}, format="json", HTTP_IF_MATCH='"1"'
        ),
        400,
    )
    assert "version" in body["fields"]
    assert state(inc.number) == before


BAD_PATCH = [
    ("unknown severity", {"severity": "P7"}, "severity"),
    ("unknown service", {"services": ["nope"]}, "services"),
    ("empty title", {"title": ""}, "title"),
    ("title over 200", {"title": "y" * 201}, "title"),
    ("impact over 100%", {"impact_percent": 150}, "impact_percent"),
    ("not a number", {"impact_users": "many"}, "impact_users"),
]


@pytest.mark.parametrize(
    ("change", "field"), [c[1:] for c in BAD_PATCH], ids=[c[0] for c in BAD_PATCH]
)
def test_bad_patch_is_400_and_writes_nothing(api, inc, change, field):
    before = state(inc.number)
    # A valid change alongside the bad one must not be half-applied.
    payload = {"summary": "should not stick", **change}
    response = api.patch(url(inc.number), payload, format="json", HTTP_IF_MATCH='"1"')
    body = error(response, 400)
    assert field in body["fields"], body
    assert state(inc.number) == before


# --- transitions ----------------------------------------------------------------------------


def test_a_transition_not_allowed_is_409_and_writes_nothing(api, inc):
    before = state(inc.number)
    body = error(
        api.post(url(inc.number, "transitions/"), {"action": "resolve"}, format="json"),
        409,
        "invalid_transition",
    )
    assert "allowed now: acknowledge" in body["message"]
    assert state(inc.number) == before


def test_an_unknown_action_is_400(api, inc):
    before = state(inc.number)
    body = error(
        api.post(url(inc.number, "transitions/"), {"action": "explode"}, format="json"), 400
    )
    assert "action" in body["fields"]
    assert state(inc.number) == before


def test_reopen_needs_a_reason(api, inc, ic):
    for action in ("acknowledge", "investigate", "resolve"):
        assert api.post(url(inc.number, "transitions/"), {"action": action}).status_code == 200
    before = state(inc.number)
    body = error(api.post(url(inc.number, "transitions/"), {"action": "reopen"}), 400)
    assert "reason" in body["fields"]
    assert state(inc.number) == before


def test_full_lifecycle_of_a_p1_through_the_api(api, catalog, ic):
    with clock.frozen(T0) as time:
        response = api.post(LIST, {**DECLARE, "severity": "P1"}, format="json")
        assert response.status_code == 201
        number = response.json()["number"]
        etag = response["ETag"]
        for minutes, action in (
            (3, "acknowledge"),
            (5, "investigate"),
            (20, "mitigate"),
            (15, "resolve"),
            (1, "monitor"),
        ):
            time.advance(minutes=minutes)
            response = api.post(
                url(number, "transitions/"), {"action": action}, format="json", HTTP_IF_MATCH=etag
            )
            assert response.status_code == 200, (action, response.content)
            etag = response["ETag"]
        body = response.json()
        assert body["status"] == "monitoring"
        assert body["transitions"] == ["close", "reopen"]
        # Monitoring, and the 48-hour post-mortem scheduling deadline opened at resolve.
        assert {t["kind"] for t in body["pending_timers"]} == {
            "monitoring_end",
            "postmortem_schedule_due",
        }

        close = {"action": "close"}
        time.advance(minutes=29)
        error(api.post(url(number, "transitions/"), close, format="json"), 409, "monitoring")
        time.advance(minutes=2)
        body = error(
            api.post(url(number, "transitions/"), close, format="json"),
            409,
            "postmortem_required",
        )
        assert "post-mortem" in body["message"]
        assert Incident.objects.get(number=number).status == "monitoring"

        ticked = api.post(url(number, "checklist/schedule_postmortem/"), {"done": True})
        assert ticked.status_code == 200 and ticked.json()["done"] is True
        # A ticked box is not a booked meeting: the post-mortems app's close guard says so.
        error(
            api.post(url(number, "transitions/"), close, format="json"),
            409,
            "postmortem_not_scheduled",
        )
        postmortem_schedule(
            postmortem=PostMortem.objects.get(incident__number=number),
            actor=ic,
            meeting_at=clock.now() + dt.timedelta(days=1),
            attendees=[ic],
        )
        response = api.post(url(number, "transitions/"), close, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "closed"
        assert response.json()["closed_at"] == "2026-03-02T11:15:00Z"
        etag = response["ETag"]

    events = api.get(url(number, "timeline/"), {"kind": "status_changed"}).json()
    assert [e["data"]["action"] for e in events["results"]] == [
        "close",
        "monitor",
        "resolve",
        "mitigate",
        "investigate",
        "acknowledge",
    ]
    assert all(e["channel"] == "api" and e["actor"] == "iris" for e in events["results"])
    # Closed is final: edits are refused.
    error(
        api.patch(url(number), {"title": "late edit"}, format="json", HTTP_IF_MATCH=etag),
        409,
        "closed",
    )


# --- assign, notes, timeline, checklist --------------------------------------------------------


def test_assign_commander_and_responders(api, inc):
    UserFactory(username="rita", role=roles.RESPONDER)
    UserFactory(username="ivan", role=roles.INCIDENT_COMMANDER)
    response = api.post(
        url(inc.number, "assign/"),
        {"commander": "ivan", "responders": ["rita", "iris"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["commander"] == "ivan"
    assert body["responders"] == ["iris", "rita"]
    assert response["ETag"] == f'"{body["version"]}"'
    response = api.post(url(inc.number, "assign/"), {"commander": None}, format="json")
    assert response.json()["commander"] is None
    assert response.json()["responders"] == ["iris", "rita"]


def test_assign_unknown_user_or_a_stakeholder_as_commander_is_400(api, inc):
    UserFactory(username="sam", role=roles.STAKEHOLDER)
    before = state(inc.number)
    error(api.post(url(inc.number, "assign/"), {"responders": ["ghost"]}, format="json"), 400)
    body = error(api.post(url(inc.number, "assign/"), {"commander": "sam"}, format="json"), 400)
    assert "commander" in body["fields"]
    assert state(inc.number) == before


def test_notes_and_the_timeline_hide_internal_events_from_stakeholders(api, inc):
    public = api.post(url(inc.number, "notes/"), {"message": "We are on it."}, format="json")
    assert public.status_code == 201, public.content
    assert public.json()["kind"] == "update" and public.json()["internal"] is False
    internal = api.post(
        url(inc.number, "notes/"), {"message": "Suspect redis eviction", "internal": True}
    )
    assert internal.status_code == 201
    assert internal.json()["kind"] == "note" and internal.json()["internal"] is True
    error(api.post(url(inc.number, "notes/"), {"message": "  "}, format="json"), 400)

    mine = api.get(url(inc.number, "timeline/")).json()
    assert [e["kind"] for e in mine["results"]] == ["note", "update", "declared"]
    assert mine["count"] == 3
    only = api.get(url(inc.number, "timeline/"), {"kind": "note,declared"}).json()
    assert [e["kind"] for e in only["results"]] == ["note", "declared"]

    stakeholder = APIClient()
    stakeholder.force_authenticate(UserFactory(role=roles.STAKEHOLDER))
    theirs = stakeholder.get(url(inc.number, "timeline/")).json()
    assert [e["kind"] for e in theirs["results"]] == ["update", "declared"]
    assert "eviction" not in json.dumps(theirs)


def test_checklist_read_and_tick(api, inc):
    items = api.get(url(inc.number, "checklist/")).json()
    assert {"key": "implement_fix", "done": False}.items() <= next(
        i for i in items if i["key"] == "implement_fix"
    ).items()
    response = api.post(url(inc.number, "checklist/implement_fix/"), {"done": True}, format="json")
    assert response.status_code == 200
    assert response.json()["done"] is True and response.json()["done_by_name"] == "Iris"
    event = TimelineEvent.objects.filter(incident=inc, kind="checklist").get()
    assert event.channel == "api" and event.visibility == "internal"
    before = state(inc.number)
    error(api.post(url(inc.number, "checklist/no-such-item/"), {"done": True}), 404)
    error(api.post(url(inc.number, "checklist/implement_fix/"), {}, format="json"), 400)
    assert state(inc.number) == before


# --- list ----------------------------------------------------------------------------------


def test_list_filters_search_and_ordering(api, ic, catalog):
    with clock.frozen(T0) as time:
        a = incident(title="Redis evictions", severity_code="P2", services=("redis",), actor=ic)
        time.advance(hours=1)
        b = incident(title="Checkout down", severity_code="P0", actor=ic)
        time.advance(hours=1)
        c = incident(title="Typo on page", severity_code="P3", actor=ic)
        api.post(url(c.number, "transitions/"), {"action": "acknowledge"})
        for action in ("investigate", "resolve"):
            api.post(url(c.number, "transitions/"), {"action": action})

    def numbers(**params) -> list[str]:
        response = api.get(LIST, params)
        assert response.status_code == 200, response.content
        return [i["number"] for i in response.json()["results"]]

    assert numbers() == [b.number, a.number, c.number]  # open first, newest first
    assert numbers(status="open") == [b.number, a.number]
    assert numbers(status=["open", "resolved"]) == [b.number, a.number, c.number]
    assert numbers(status="resolved") == [c.number]
    assert numbers(severity=["P0", "P3"]) == [b.number, c.number]
    assert numbers(service="redis") == [a.number]
    assert numbers(q="checkout") == [b.number]
    assert numbers(q=b.number) == [b.number]
    assert numbers(ordering="oldest") == [a.number, b.number, c.number]
    assert numbers(ordering="severity") == [b.number, a.number, c.number]
    assert numbers(detected_from="2026-03-02T10:30:00Z") == [b.number, c.number]
    assert numbers(detected_to="2026-03-02T10:30:00Z") == [a.number]
    assert numbers(detected_from="2026-03-02", detected_to="2026-03-02") == [
        b.number,
        a.number,
        c.number,
    ]
    assert numbers(detected_from="2026-03-03") == []
    assert numbers(commander="iris") == []

    page = api.get(LIST, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    item = page["results"][0]
    assert item["severity"] == "P0" and item["services"] == ["api-gateway"]


@pytest.mark.parametrize(
    "params",
    [{"status": "sleeping"}, {"ordering": "random"}, {"detected_from": "yesterday"}],
    ids=["status", "ordering", "date"],
)
def test_list_rejects_bad_filters_with_400(api, inc, params):
    body = error(api.get(LIST, params), 400, "invalid")
    assert set(body["fields"]) == set(params)


# --- who may do what -------------------------------------------------------------------------


def _writes(number: str) -> list[tuple[str, str, dict]]:
    return [
        ("post", LIST, DECLARE),
        ("patch", url(number), {"title": "mine now", "version": 1}),
        ("post", url(number, "transitions/"), {"action": "acknowledge"}),
        ("post", url(number, "assign/"), {"commander": "iris"}),
        ("post", url(number, "notes/"), {"message": "hello"}),
        ("post", url(number, "checklist/implement_fix/"), {"done": True}),
    ]


def test_a_stakeholder_gets_403_on_every_write_and_nothing_changes(inc):
    client = APIClient()
    client.force_authenticate(UserFactory(role=roles.STAKEHOLDER))
    before = state(inc.number)
    for method, path, payload in _writes(inc.number):
        response = getattr(client, method)(path, payload, format="json")
        error(response, 403, "permission_denied")
        # Even a malformed body is refused for the role first, not parsed.
        response = getattr(client, method)(path, "{", content_type="application/json")
        error(response, 403)
    assert client.get(url(inc.number)).status_code == 200
    assert Incident.objects.count() == 1
    assert state(inc.number) == before


def test_a_responder_may_acknowledge_and_note_but_not_drive(inc):
    client = APIClient()
    client.force_authenticate(UserFactory(username="rita", role=roles.RESPONDER))
    before = state(inc.number)
    error(
        client.patch(url(inc.number), {"title": "x", "version": 1}, format="json"),
        403,
    )
    error(client.post(url(inc.number, "assign/"), {"commander": "rita"}, format="json"), 403)
    assert state(inc.number) == before
    ok = client.post(url(inc.number, "transitions/"), {"action": "acknowledge"}, format="json")
    assert ok.status_code == 200
    # The service, not just the gate, knows acknowledging is all a responder may do.
    error(
        client.post(url(inc.number, "transitions/"), {"action": "investigate"}, format="json"),
        403,
        "permission_denied",
    )


def test_anonymous_is_401(inc):
    error(APIClient().get(LIST), 401, "not_authenticated")
    error(APIClient().post(url(inc.number, "notes/"), {"message": "x"}), 401)


def test_token_authentication_drives_the_api(catalog):
    bot = UserFactory(username="ci-bot", role=roles.INCIDENT_COMMANDER)
    token = Token.objects.create(user=bot)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(LIST, DECLARE, format="json")
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert client.get(LIST).json()["results"][0]["number"] == number
    response = client.post(url(number, "transitions/"), {"action": "acknowledge"}, format="json")
    assert response.status_code == 200
    assert TimelineEvent.objects.filter(kind="status_changed").get().actor == bot
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    error(client.get(LIST), 401)


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_schema_validates_without_warnings(tmp_path):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular", validate=True, fail_on_warn=True, file=str(target), stdout=out, stderr=err
    )
    assert "Warning" not in err.getvalue() and "Error" not in err.getvalue(), err.getvalue()
    schema = target.read_text()
    for operation in (
        "incidents_list",
        "incidents_declare",
        "incidents_retrieve",
        "incidents_update",
        "incidents_transition",
        "incidents_assign",
        "incidents_note_add",
        "incidents_timeline",
        "incidents_checklist",
        "incidents_checklist_item_set",
    ):
        assert f"operationId: {operation}" in schema
    assert "If-Match" in schema and "'428':" in schema and "Declare a P1" in schema
