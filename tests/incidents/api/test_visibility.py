"""Issue 14, item 9: one visibility rule for every surface. For each role, what the API
returns about an incident matches what the command page shows: the runbook checklist (with
who ticked it), the people, the timers, the transitions and the internal notes."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.services import checklist_item_set, incident_assign, incident_note_add
from nexusops.common import roles
from tests.factories import UserFactory, incident

pytestmark = pytest.mark.django_db
NOTE = "Suspect redis eviction on cache-7"
ROLES = [roles.STAKEHOLDER, roles.RESPONDER, roles.INCIDENT_COMMANDER, roles.MANAGER]


@pytest.fixture
def inc():
    ic = UserFactory(username="carl", first_name="Carl", last_name="Commander",
                     role=roles.INCIDENT_COMMANDER)  # fmt: skip
    rhea = UserFactory(username="rhea", first_name="Rhea", last_name="Responder",
                       role=roles.RESPONDER)  # fmt: skip
    found = incident(actor=ic, commander=ic)
    incident_assign(incident=found, actor=ic, responders=[rhea])
    checklist_item_set(incident=found, key="implement_fix", done=True, actor=ic)
    incident_note_add(incident=found, actor=ic, message=NOTE, internal=True)
    return found


def surfaces(role: str, number: str) -> tuple[dict[str, bool], dict[str, bool]]:
    """What the page shows and what the API gives, as the same named facts."""
    user = UserFactory(role=role)
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    response = browser.get(reverse("incident-detail", args=[number]))
    assert response.status_code == 200
    html = response.content.decode()

    api = APIClient()
    api.force_authenticate(user)
    detail = api.get(f"/api/incidents/{number}/")
    assert detail.status_code == 200
    body = detail.json()
    checklist = api.get(f"/api/incidents/{number}/checklist/")
    timeline = json.dumps(api.get(f"/api/incidents/{number}/timeline/").json())

    page = {
        "checklist": 'id="incident-steps"' in html,
        "people": 'id="incident-people"' in html,
        "commander": "<dt>Commander</dt>" in html,
        "timers": 'id="incident-timers"' in html,
        "transitions": 'class="transitions"' in html,
        "internal notes": NOTE in html,
    }
    given = {
        "checklist": "checklist" in body
        and checklist.status_code == 200
        and "implement_fix" in json.dumps(checklist.json()),
        "people": "responders" in body and body["responders"] == ["rhea"],
        "commander": "commander" in body,
        "timers": "pending_timers" in body,
        "transitions": "transitions" in body,
        "internal notes": NOTE in timeline,
    }
    if not given["checklist"]:
        # Nothing of the checklist leaks anywhere else in the answer either.
        assert "implement_fix" not in json.dumps(body) and "Carl Commander" not in json.dumps(body)
        assert checklist.status_code == 403 and "error" in checklist.json()
    return page, given


@pytest.mark.parametrize("role", ROLES)
def test_the_api_shows_what_the_page_shows(inc, role):
    page, given = surfaces(role, inc.number)
    assert given == page
    expected = role != roles.STAKEHOLDER  # everything internal, or nothing of it
    assert set(page.values()) == {expected}, page
