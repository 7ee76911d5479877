"""PagerDuty v3 webhooks: signatures (with a rotating secret), dedup on event id, and the
acknowledged / resolved / reassigned events applied through the services."""

from __future__ import annotations

import pytest

from incidents.models import Channel, Incident, Status, TimelineEvent
from incidents.services import incident_transition
from nexusops.engine.models import InboundDelivery

from .conftest import PD_OLD_SECRET, PD_SECRET, pd_body, pd_headers

pytestmark = pytest.mark.django_db
URL = "/webhooks/pagerduty/"


@pytest.fixture
def hook(post):
    def run(body: bytes, headers: dict | None = None):
        return post(URL, body, pd_headers(body) if headers is None else headers, "application/json")

    return run


def _move(incident: Incident, *actions: str) -> None:
    for action in actions:
        incident_transition(incident=incident, action=action, actor=None)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_PAGERDUTY_SIGNATURE": ""},
        {"HTTP_X_PAGERDUTY_SIGNATURE": "v1=deadbeef"},
        {"HTTP_X_PAGERDUTY_SIGNATURE": "v2=abc"},
        "forged",
        "tampered",
    ],
    ids=["missing", "empty", "wrong", "other-version", "forged", "tampered"],
)
def test_bad_signature_is_401_and_changes_nothing(hook, live_incident, headers):
    body = pd_body("incident.acknowledged", incident_key=live_incident.number)
    if headers == "forged":
        headers = pd_headers(body, "guessed-secret")
    elif headers == "tampered":
        headers = pd_headers(body)
        body = body.replace(b"acknowledged", b"resolved")
    before = TimelineEvent.objects.count()
    response = hook(body, headers)
    assert response.status_code == 401
    assert "error" in response.json()
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()


def test_secret_unset_is_503(hook, settings, live_incident):
    settings.PAGERDUTY_WEBHOOK_SECRET = ""
    response = hook(pd_body("incident.acknowledged", incident_key=live_incident.number))
    assert response.status_code == 503
    assert "PAGERDUTY_WEBHOOK_SECRET" in response.json()["error"]


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"event": {"id": "E1"}}'])
def test_signed_but_malformed_is_400(hook, body):
    response = hook(body)
    assert response.status_code == 400
    assert not InboundDelivery.objects.exists()


def test_acknowledged_by_linked_user(hook, alice, live_incident):
    response = hook(pd_body("incident.acknowledged", incident_key=live_incident.number))
    assert response.json() == {"accepted": "01EVT0001"}
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED
    event = live_incident.events.get(kind="status_changed")
    assert event.channel == Channel.PAGERDUTY and event.actor == alice


def test_acknowledged_by_unlinked_agent_is_the_system(hook, live_incident):
    body = pd_body(
        "incident.acknowledged",
        incident_key=live_incident.number,
        agent={"id": "PNOBODY", "summary": "Stranger"},
    )
    hook(body)
    event = live_incident.events.get(kind="status_changed")
    assert event.actor is None and event.channel == Channel.PAGERDUTY


def test_old_secret_during_rotation_is_accepted(hook, live_incident):
    body = pd_body("incident.acknowledged", incident_key=live_incident.number)
    response = hook(body, pd_headers(body, "someone-else", PD_OLD_SECRET))
    assert response.status_code == 200
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED


def test_retired_secret_is_refused(hook, settings, live_incident):
    settings.PAGERDUTY_WEBHOOK_SECRET = PD_SECRET  # rotation finished
    body = pd_body("incident.acknowledged", incident_key=live_incident.number)
    assert hook(body, pd_headers(body, PD_OLD_SECRET)).status_code == 401


def test_replayed_event_changes_nothing(hook, alice, live_incident):
    body = pd_body(
        "incident.reassigned",
        incident_key=live_incident.number,
        assignees=[{"id": "PBOB", "summary": "Bob"}],
    )
    assert hook(body).json() == {"accepted": "01EVT0001"}
    assert hook(body).json() == {"duplicate": "01EVT0001"}
    assert live_incident.events.filter(kind="note").count() == 1
    assert InboundDelivery.objects.filter(source="pagerduty").count() == 1


def test_found_by_pagerduty_incident_id(hook, live_incident):
    Incident.objects.filter(pk=live_incident.pk).update(pagerduty_incident_id="Q0PD0042")
    hook(pd_body("incident.acknowledged", incident_key="some-other-key", pd_id="Q0PD0042"))
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED


def test_unknown_incident_and_event_type_are_ignored(hook, live_incident):
    before = TimelineEvent.objects.count()
    assert (
        "ignored"
        in hook(
            pd_body("incident.acknowledged", incident_key="INC-19990101-001", pd_id="QNOPE")
        ).json()
    )
    assert hook(
        pd_body("incident.priority_updated", event_id="E2", incident_key=live_incident.number)
    ).json() == {"ignored": "incident.priority_updated"}
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()


def test_acknowledged_echo_of_our_own_ack_does_nothing(hook, live_incident):
    _move(live_incident, "acknowledge")
    before = TimelineEvent.objects.count()
    hook(pd_body("incident.acknowledged", incident_key=live_incident.number))
    assert TimelineEvent.objects.count() == before


def test_resolved_when_the_state_machine_allows(hook, alice, live_incident):
    _move(live_incident, "acknowledge", "investigate")
    hook(pd_body("incident.resolved", incident_key=live_incident.number))
    live_incident.refresh_from_db()
    assert live_incident.status == Status.RESOLVED
    event = live_incident.events.filter(kind="status_changed").first()
    assert event.data["action"] == "resolve" and event.channel == Channel.PAGERDUTY
    assert event.actor == alice


@pytest.mark.parametrize("moves", [(), ("acknowledge",)])
def test_resolved_too_early_becomes_a_note(hook, live_incident, moves):
    _move(live_incident, *moves)
    status = Incident.objects.get(pk=live_incident.pk).status
    hook(pd_body("incident.resolved", incident_key=live_incident.number))
    live_incident.refresh_from_db()
    assert live_incident.status == status
    (note,) = live_incident.events.filter(kind="note")
    assert note.message == "Resolved in PagerDuty by Alice Agent; resolve here when verified."
    assert note.channel == Channel.PAGERDUTY


def test_resolved_echo_of_our_own_resolve_does_nothing(hook, live_incident):
    _move(live_incident, "acknowledge", "investigate", "resolve")
    before = TimelineEvent.objects.count()
    hook(pd_body("incident.resolved", incident_key=live_incident.number))
    assert TimelineEvent.objects.count() == before


def test_reassigned_names_the_new_assignees(hook, alice, bob, live_incident):
    from incidents.models import Profile

    Profile.objects.filter(user=bob).update(pagerduty_user_id="PBOB")
    hook(
        pd_body(
            "incident.reassigned",
            incident_key=live_incident.number,
            assignees=[{"id": "PBOB", "summary": "Bob Builder"}, {"id": "PX", "summary": "Xena"}],
        )
    )
    (note,) = live_incident.events.filter(kind="note")
    assert note.message == "Reassigned in PagerDuty to Bob Builder (bob), Xena (by Alice Agent)."
    assert note.visibility == TimelineEvent.Visibility.INTERNAL
    assert note.channel == Channel.PAGERDUTY
