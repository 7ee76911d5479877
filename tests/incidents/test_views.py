"""The incident pages through Django's test client: list, declare, command page, live, roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from incidents import services
from incidents.models import Incident, Status, TimelineEvent
from nexusops.common import clock, roles
from nexusops.engine.timers import timers_sweep
from tests.factories import ServiceFactory, UserFactory, incident, severities

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ic():
    return UserFactory(username="iris", first_name="Iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def responder():
    return UserFactory(username="ravi", role=roles.RESPONDER)


@pytest.fixture
def stakeholder():
    return UserFactory(username="sam", role=roles.STAKEHOLDER)


@pytest.fixture
def as_ic(client, ic):
    client.force_login(ic)
    return client


def detail_url(inc: Incident) -> str:
    return reverse("incident-detail", args=[inc.number])


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    return " ".join(strip_tags(html(response)).split())


# ---- list ----------------------------------------------------------------------------------


def test_home_redirects_to_the_incident_list(as_ic):
    response = as_ic.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("incident-list")


def test_list_shows_open_incidents_first_with_sla_state(as_ic, ic):
    old_open = incident("Old but open", severity_code="P2", actor=ic)
    closed_ish = incident("Newer and resolved", actor=ic)
    for action in ("acknowledge", "investigate", "resolve"):
        services.incident_transition(incident=closed_ish, action=action, actor=ic)
    response = as_ic.get(reverse("incident-list"))
    body = html(response)
    assert response.status_code == 200
    assert body.index(old_open.number) < body.index(closed_ish.number)
    assert re.search(r"ack due in \d hours", text(response))  # P2: acknowledge within 4 h
    assert 'class="badge sev-P2"' in body
    assert "api-gateway" in body


def test_list_marks_a_breached_sla(as_ic, ic):
    inc = incident(actor=ic)
    with clock.frozen(inc.detected_at + dt.timedelta(hours=2)):
        timers_sweep()
    body = html(as_ic.get(reverse("incident-list")))
    assert "breached" in body


def test_list_filters_search_and_sort(as_ic, ic):
    p0 = incident("Platform down", severity_code="P0", services=("user-service",), actor=ic)
    p3 = incident("Typo on the pricing page", severity_code="P3", services=("web",), actor=ic)
    p1 = incident("API latency", severity_code="P1", commander=ic, actor=ic)
    services.incident_transition(incident=p1, action="acknowledge", actor=ic)
    url = reverse("incident-list")

    def numbers(**params) -> list[str]:
        body = html(as_ic.get(url, params))
        return [n for n in (p0.number, p1.number, p3.number) if n in body]

    assert numbers(severity="P0") == [p0.number]
    assert numbers(service="web") == [p3.number]
    assert numbers(commander="iris") == [p1.number]
    assert numbers(status="acknowledged") == [p1.number]
    assert numbers(status="triggered") == [p0.number, p3.number]
    assert numbers(q="pricing") == [p3.number]
    assert numbers(q=p0.number.lower()) == [p0.number]
    today = clock.now().date()
    assert len(numbers(detected_from=today.isoformat(), detected_to=today.isoformat())) == 3
    assert numbers(detected_from=(today + dt.timedelta(days=1)).isoformat()) == []
    body = html(as_ic.get(url, {"sort": "severity"}))
    assert body.index(p0.number) < body.index(p1.number) < body.index(p3.number)
    # A date that does not parse is ignored (and said so), not a server error.
    response = as_ic.get(url, {"detected_from": "yesterday"})
    assert response.status_code == 200
    assert "Ignored" in html(response)


def test_list_paginates_by_50_and_htmx_gets_only_the_results(as_ic, ic):
    severities()
    ServiceFactory(slug="api-gateway")
    for i in range(55):
        services.incident_declare(title=f"Incident {i}", severity="P3", actor=ic)
    url = reverse("incident-list")
    body = html(as_ic.get(url, {"severity": "P3"}))
    assert body.count('class="inc-number"') == 50
    assert "1–50 of 55 incidents" in body
    older = re.search(r'href="(\?severity=P3&amp;cursor=[^"]+)"', body).group(1)
    page2 = as_ic.get(url + older.replace("&amp;", "&"), **HTMX)
    assert html(page2).count('class="inc-number"') == 5
    assert "<html" not in html(page2)
    assert 'id="incident-results"' in html(page2)
    assert "51–55 of 55 incidents" in html(page2)


@pytest.mark.parametrize("count", [5, 60])
def test_list_query_count_does_not_grow_with_incidents(
    as_ic, ic, count, django_assert_max_num_queries
):
    severities()
    ServiceFactory(slug="api-gateway")
    for i in range(count):
        services.incident_declare(
            title=f"Incident {i}", severity="P2", services=["api-gateway"], actor=ic, commander=ic
        )
    with django_assert_max_num_queries(15):
        response = as_ic.get(reverse("incident-list"))
    assert response.status_code == 200


# ---- declare -------------------------------------------------------------------------------


def test_declare_redirects_to_the_command_page(as_ic):
    severities()
    ServiceFactory(slug="api-gateway")
    response = as_ic.post(
        reverse("incident-declare"),
        {"title": "Checkout failing", "severity": "P1", "services": ["api-gateway"]},
    )
    inc = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(inc)
    assert inc.severity.code == "P1"
    assert list(inc.services.values_list("slug", flat=True)) == ["api-gateway"]
    page = as_ic.get(response["Location"])
    assert "Checkout failing" in html(page)
    # Once: base's message area stands aside for the command page's own (live) one.
    assert html(page).count(f"Declared {inc.number}.") == 1


def test_declare_over_htmx_answers_with_a_redirect_header(as_ic):
    severities()
    response = as_ic.post(
        reverse("incident-declare"), {"title": "Checkout failing", "severity": "P1"}, **HTMX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == detail_url(Incident.objects.get())


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"title": "  ", "severity": "P1"}, "title", "This field is required."),
        ({"title": "x" * 201, "severity": "P1"}, "title", "At most 200 characters."),
        ({"title": "Down", "severity": "P9"}, "severity", "Unknown severity"),
        ({"title": "Down", "severity": "P1", "services": ["nope"]}, "services", "nope"),
        ({"title": "Down", "severity": "P1", "impact_percent": "150"}, "impact_percent", "100"),
        ({"title": "Down", "severity": "P1", "impact_users": "many"}, "impact_users", "number"),
    ],
)
def test_declare_validation_errors_show_by_the_field_and_change_nothing(as_ic, data, field, text):
    severities()
    for htmx in (False, True):
        response = as_ic.post(reverse("incident-declare"), data, **(HTMX if htmx else {}))
        assert response.status_code == 400
        body = html(response)
        assert text in body
        # The error sits in the field's own block, next to its input.
        after = body.rsplit(f'name="{field}"', 1)[1]
        assert after.index('class="field-error"') < after.index('name="')
    assert not Incident.objects.exists()
    assert not TimelineEvent.objects.exists()


def test_stakeholder_cannot_declare(client, stakeholder):
    severities()
    client.force_login(stakeholder)
    assert client.get(reverse("incident-declare")).status_code == 403
    response = client.post(reverse("incident-declare"), {"title": "x", "severity": "P1"})
    assert response.status_code == 403
    assert not Incident.objects.exists()


# ---- the command page ----------------------------------------------------------------------


def test_command_page_shows_header_steps_timers_and_transitions(as_ic, ic):
    inc = incident(actor=ic)
    response = as_ic.get(detail_url(inc))
    body = html(response)
    assert inc.number in body and "API errors on checkout" in body
    assert 'data-status="triggered"' in body
    # A P1's next deadline is the first stakeholder update (15 min), before the ack (1 h).
    assert re.search(r"first update due in 1\d minutes", text(response))
    assert "Acknowledge deadline" in body and "First stakeholder update" in body
    assert "1. Acknowledge" in body and "6. Post-mortem" in body
    assert 'name="action" value="acknowledge"' in body
    assert 'name="action" value="close"' not in body
    assert reverse("incident-checklist", args=[inc.number, "update_status_page"]) in body
    assert f'"v": "{inc.version}"' in body  # the live poller


def test_transitions_through_the_view(as_ic, ic):
    inc = incident(actor=ic)
    url = reverse("incident-transition", args=[inc.number])
    for action, status in [
        ("acknowledge", Status.ACKNOWLEDGED),
        ("investigate", Status.INVESTIGATING),
        ("mitigate", Status.MITIGATED),
        ("resolve", Status.RESOLVED),
    ]:
        inc.refresh_from_db()
        response = as_ic.post(url, {"action": action, "version": inc.version})
        assert response.status_code == 302
        inc.refresh_from_db()
        assert inc.status == status
    body = html(as_ic.get(detail_url(inc)))
    assert "is now resolved" in body
    assert 'name="action" value="monitor"' in body
    assert 'name="action" value="reopen"' in body


def test_an_htmx_transition_answers_with_the_refreshed_sections(as_ic, ic):
    inc = incident(actor=ic)
    response = as_ic.post(
        reverse("incident-transition", args=[inc.number]),
        {"action": "acknowledge", "version": inc.version},
        **HTMX,
    )
    body = html(response)
    assert response.status_code == 200
    assert 'id="incident-header" class="card incident-header sev-edge-P1" hx-swap-oob="true"' in (
        body
    )
    assert 'data-status="acknowledged"' in body
    assert 'id="incident-timeline"' in body and "Acknowledged" in body
    assert "is now acknowledged" in body  # the message, inline


def test_a_refused_transition_shows_the_service_message(as_ic, ic, settings):
    inc = incident(actor=ic)
    url = reverse("incident-transition", args=[inc.number])
    response = as_ic.post(url, {"action": "close"}, **HTMX)
    assert response.status_code == 409
    assert "Cannot close" in html(response)
    response = as_ic.post(url, {"action": "close"}, follow=True)
    assert "Cannot close" in html(response)
    inc.refresh_from_db()
    assert inc.status == Status.TRIGGERED


def test_close_errors_are_shown_clearly(as_ic, ic, settings):
    inc = incident(actor=ic)  # a P1: needs its post-mortem scheduled
    for action in ("acknowledge", "investigate", "resolve", "monitor"):
        services.incident_transition(incident=inc, action=action, actor=ic)
    url = reverse("incident-transition", args=[inc.number])
    response = as_ic.post(url, {"action": "close"}, **HTMX)
    assert response.status_code == 409
    assert "is being monitored until" in html(response)
    settings.INCIDENT_MONITORING_MINUTES = 0
    response = as_ic.post(url, {"action": "close"}, **HTMX)
    assert response.status_code == 409
    assert "needs its post-mortem scheduled" in html(response)


def test_reopen_asks_for_a_reason(as_ic, ic):
    inc = incident(actor=ic)
    for action in ("acknowledge", "investigate", "resolve"):
        services.incident_transition(incident=inc, action=action, actor=ic)
    url = reverse("incident-transition", args=[inc.number])
    response = as_ic.post(url, {"action": "reopen", "reason": " "}, **HTMX)
    assert response.status_code == 400
    assert "A reason is required." in html(response)
    response = as_ic.post(url, {"action": "reopen", "reason": "errors are back"})
    inc.refresh_from_db()
    assert inc.status == Status.INVESTIGATING
    assert TimelineEvent.objects.filter(message="Reopened: errors are back").exists()


def test_edit_with_a_stale_version_says_so_and_changes_nothing(as_ic, ic):
    inc = incident(actor=ic)
    seen = inc.version
    services.incident_update(incident=inc, title="Changed elsewhere", actor=ic)
    url = reverse("incident-edit", args=[inc.number])
    data = {"version": seen, "title": "My title", "severity": "P0"}
    response = as_ic.post(url, data, **HTMX)
    assert response.status_code == 409
    body = html(response)
    assert "changed by someone else, reloaded" in body
    assert 'value="Changed elsewhere"' in body  # the form shows what is there now
    response = as_ic.post(url, data, follow=True)
    assert "changed by someone else, reloaded" in html(response)
    inc.refresh_from_db()
    assert (inc.title, inc.severity.code) == ("Changed elsewhere", "P1")


def test_edit_saves_and_shows_field_errors(as_ic, ic):
    inc = incident(actor=ic)
    url = reverse("incident-edit", args=[inc.number])
    response = as_ic.post(
        url,
        {"version": inc.version, "title": "", "severity": "P1", "services": ["api-gateway"]},
        **HTMX,
    )
    assert response.status_code == 400
    assert "This field is required." in html(response)
    response = as_ic.post(
        url,
        {
            "version": inc.version,
            "title": "Checkout down",
            "severity": "P0",
            "services": ["api-gateway"],
            "impact_percent": "40",
            "data_breach": "on",
        },
    )
    assert response.status_code == 302
    inc.refresh_from_db()
    assert (inc.title, inc.severity.code, inc.impact_percent, inc.data_breach) == (
        "Checkout down",
        "P0",
        40,
        True,
    )


def test_assign_commander_and_responders(as_ic, ic, responder):
    inc = incident(actor=ic)
    url = reverse("incident-assign", args=[inc.number])
    response = as_ic.post(url, {"commander": "ravi", "version": inc.version}, **HTMX)
    assert response.status_code == 400
    assert "cannot be incident commander" in html(response)
    as_ic.post(url, {"commander": "iris", "responders": ["ravi"], "version": inc.version})
    inc.refresh_from_db()
    assert inc.commander == ic
    assert list(inc.responders.all()) == [responder]


def test_notes_and_checklist(as_ic, ic):
    inc = incident(actor=ic)
    note = reverse("incident-note", args=[inc.number])
    response = as_ic.post(note, {"message": "", "internal": "on"}, **HTMX)
    assert response.status_code == 400
    assert "This field is required." in html(response)
    as_ic.post(note, {"message": "Gateway 5xx at 30%", "internal": "on"})
    as_ic.post(note, {"message": "We are investigating checkout errors."})
    kinds = list(TimelineEvent.objects.filter(incident=inc).values_list("kind", "visibility"))
    assert ("note", "internal") in kinds and ("update", "public") in kinds
    tick = reverse("incident-checklist", args=[inc.number, "update_status_page"])
    response = as_ic.post(tick, {"done": "on"}, **HTMX)
    assert response.status_code == 200
    assert "Iris ·" in html(response)  # who ticked it
    assert inc.checklist.get(key="update_status_page").done
    as_ic.post(tick, {})
    assert not inc.checklist.get(key="update_status_page").done
    response = as_ic.post(reverse("incident-checklist", args=[inc.number, "nope"]), **HTMX)
    assert response.status_code == 404


def test_responder_may_acknowledge_but_not_drive(client, ic, responder):
    inc = incident(actor=ic)
    client.force_login(responder)
    url = reverse("incident-transition", args=[inc.number])
    body = html(client.get(detail_url(inc)))
    assert 'value="acknowledge"' in body and "incident-edit" not in body
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    assert client.post(url, {"action": "investigate"}).status_code == 403
    inc.refresh_from_db()
    assert inc.status == Status.ACKNOWLEDGED


# ---- timeline ------------------------------------------------------------------------------


def test_timeline_filters_by_kind_and_pages_older_events(as_ic, ic):
    inc = incident(actor=ic)
    for i in range(55):
        services.incident_note_add(incident=inc, message=f"note number {i:03d}", actor=ic)
    url = reverse("incident-timeline", args=[inc.number])
    body = html(as_ic.get(url, {"kind": "declared"}, **HTMX))
    assert "<html" not in body
    assert body.count('class="ev ') == 1 and "Declared P1" in body
    body = html(as_ic.get(detail_url(inc)))
    assert body.count('class="ev ') == 50
    assert "note number 054" in body and "note number 004" not in body
    assert "Show older events" in body and "before=" in body
    before = body.split("before=", 1)[1].split('"', 1)[0]
    body = html(as_ic.get(url, {"before": before}, **HTMX))
    assert "note number 004" in body and "Declared P1" in body and "note number 054" not in body


@pytest.mark.parametrize("events", [5, 60])
def test_command_page_query_count_does_not_grow_with_events(
    as_ic, ic, events, django_assert_max_num_queries
):
    inc = incident(actor=ic, commander=ic)
    for i in range(events):
        services.incident_note_add(incident=inc, message=f"note {i}", actor=ic, internal=i % 2)
    with django_assert_max_num_queries(24):
        response = as_ic.get(detail_url(inc))
    assert response.status_code == 200
    with django_assert_max_num_queries(24):
        response = as_ic.get(reverse("incident-live", args=[inc.number]))
    assert response.status_code == 200


# ---- live ----------------------------------------------------------------------------------


def test_live_answers_204_when_unchanged_and_the_sections_when_changed(as_ic, ic, settings):
    inc = incident(actor=ic)
    url = reverse("incident-live", args=[inc.number])
    same = {"v": inc.version, "e": inc.last_event_id}
    response = as_ic.get(url, same, **HTMX)
    assert response.status_code == 204
    assert response.content == b""
    services.incident_note_add(incident=inc, message="Rolled back the gateway", actor=ic)
    response = as_ic.get(url, same, **HTMX)
    body = html(response)
    assert response.status_code == 200
    assert "Rolled back the gateway" in body
    assert 'hx-swap-oob="true"' in body
    for section in ("incident-header", "incident-steps", "incident-timeline", "incident-live"):
        assert f'id="{section}"' in body
    inc.refresh_from_db()
    assert f'"v": "{inc.version}", "e": "{inc.last_event_id}"' in body
    # The cheap check is one query (plus the session and the user).
    fresh = {"v": inc.version, "e": inc.last_event_id}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert as_ic.get(url, fresh, **HTMX).status_code == 204
    incident_queries = [q for q in ctx.captured_queries if "incidents_incident" in q["sql"]]
    assert len(incident_queries) == 1


def test_live_answers_286_once_closed(as_ic, ic, settings):
    settings.INCIDENT_MONITORING_MINUTES = 0
    inc = incident(severity_code="P2", actor=ic)
    for action in ("acknowledge", "investigate", "resolve", "monitor"):
        services.incident_transition(incident=inc, action=action, actor=ic)
    inc.refresh_from_db()
    url = reverse("incident-live", args=[inc.number])
    seen = {"v": inc.version, "e": inc.last_event_id}
    services.incident_transition(incident=inc, action="close", actor=ic)
    response = as_ic.get(url, seen, **HTMX)
    assert response.status_code == 286
    assert 'data-status="closed"' in html(response)
    assert "every 2s" not in html(response)  # no poll of any kind
    inc.refresh_from_db()
    response = as_ic.get(url, {"v": inc.version, "e": inc.last_event_id}, **HTMX)
    assert response.status_code == 286
    page = html(as_ic.get(detail_url(inc)))
    assert "every 2s" not in page


def test_live_for_an_unknown_incident_is_404(as_ic):
    assert as_ic.get(reverse("incident-live", args=["INC-20000101-001"])).status_code == 404


# ---- stakeholders --------------------------------------------------------------------------


def test_stakeholder_sees_a_read_only_page_without_internal_notes(client, ic, stakeholder):
    inc = incident(actor=ic, impact_description="Checkout fails for some EU users")
    services.incident_note_add(
        incident=inc, message="SECRET: suspect the db password rotation", actor=ic, internal=True
    )
    services.incident_note_add(incident=inc, message="We are on it.", actor=ic)
    services.checklist_item_set(incident=inc, key="update_status_page", done=True, actor=ic)
    client.force_login(stakeholder)
    seen = {"v": 1, "e": 0}
    for response in (
        client.get(detail_url(inc)),
        client.get(reverse("incident-live", args=[inc.number]), seen, **HTMX),
        client.get(reverse("incident-timeline", args=[inc.number])),
        client.get(reverse("incident-timeline", args=[inc.number]), {"kind": "note"}, **HTMX),
    ):
        body = html(response)
        assert response.status_code == 200
        assert "SECRET" not in body
        assert "Ticked" not in body  # checklist events are internal too
        assert "hx-post" not in body
        assert 'name="action"' not in body
        assert "incident-steps" not in body
    body = html(client.get(detail_url(inc)))
    assert "We are on it." in body
    assert "Checkout fails for some EU users" in body
    assert 'data-status="triggered"' in body
    assert "api-gateway" in body
    assert 'hx-trigger="every 2s, incident-changed from:body"' in body  # live as well
    assert "Declare incident" not in body


def test_stakeholder_cannot_post_anything(client, ic, stakeholder):
    inc = incident(actor=ic)
    client.force_login(stakeholder)
    posts = [
        ("incident-transition", {"action": "acknowledge"}),
        ("incident-note", {"message": "hello"}),
        ("incident-assign", {"commander": "iris"}),
        ("incident-edit", {"title": "mine now"}),
    ]
    before = TimelineEvent.objects.count()
    for name, data in posts:
        for extra in ({}, HTMX):
            response = client.post(reverse(name, args=[inc.number]), data, **extra)
            assert response.status_code == 403, name
    url = reverse("incident-checklist", args=[inc.number, "update_status_page"])
    assert client.post(url, {"done": "on"}).status_code == 403
    assert TimelineEvent.objects.count() == before
    inc.refresh_from_db()
    assert (inc.status, inc.title, inc.commander) == (
        Status.TRIGGERED,
        "API errors on checkout",
        None,
    )


# ---- escaping ------------------------------------------------------------------------------


def test_user_text_is_escaped(as_ic, ic):
    inc = incident(title=f"Broken {XSS}", actor=ic)
    services.incident_note_add(incident=inc, message=f"note {XSS}", actor=ic)
    for url in (detail_url(inc), reverse("incident-list")):
        body = html(as_ic.get(url))
        assert XSS not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    live = html(as_ic.get(reverse("incident-live", args=[inc.number]), **HTMX))
    assert XSS not in live and "note &lt;script&gt;" in live
