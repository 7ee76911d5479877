"""An override needs a second person's approval, unless the person taking the shift asked.

Only approved overrides change who is on call; the requester cannot approve their own; a
manager or someone on the rotation decides, once; the On-call page lists what waits with
Approve and Refuse.
"""

from __future__ import annotations

import datetime as dt

import pytest

from nexusops.common import roles
from nexusops.common.errors import Conflict, PermissionDeniedError
from oncall import schedule
from oncall.models import Rotation, RotationMember, RotationOverride
from oncall.services import override_create, override_decide
from tests.factories import UserFactory

START = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)  # shift 9: Ana's
LATER = dt.datetime(2030, 3, 19, 12, 0, tzinfo=dt.UTC)  # still to come, for the page


@pytest.fixture
def rota(db):
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    people = [UserFactory(username=n, role=roles.RESPONDER) for n in ("ana", "ben", "cy")]
    for i, u in enumerate(people):
        RotationMember.objects.create(rotation=rotation, user=u, position=i)
    return rotation, people


def _ask(rotation, user, actor, hours=6, at=START):
    return override_create(
        rotation=rotation,
        user=user,
        starts_at=at,
        ends_at=at + dt.timedelta(hours=hours),
        actor=actor,
        reason="dentist",
    )


def test_taking_the_shift_yourself_counts_at_once(rota):
    rotation, (ana, _ben, cy) = rota
    ov = _ask(rotation, cy, cy)
    assert ov.state == RotationOverride.State.APPROVED and ov.decided_by == cy
    assert schedule.on_call_at(rotation, START) == cy
    assert ov.replaces == ana


def test_asking_someone_else_waits_for_a_second_person(rota):
    rotation, (ana, ben, cy) = rota
    ov = _ask(rotation, cy, ana)  # Ana asks Cy to cover her
    assert ov.state == RotationOverride.State.REQUESTED
    assert schedule.on_call_at(rotation, START) == ana
    with pytest.raises(PermissionDeniedError, match="Someone else must approve"):
        override_decide(override=ov, actor=ana, approve=True)
    outsider = UserFactory(username="otto", role=roles.INCIDENT_COMMANDER)
    with pytest.raises(PermissionDeniedError, match="manager or someone on the rotation"):
        override_decide(override=ov, actor=outsider, approve=True)
    assert RotationOverride.objects.get().state == RotationOverride.State.REQUESTED
    override_decide(override=ov, actor=ben, approve=True)
    assert schedule.on_call_at(rotation, START) == cy
    with pytest.raises(Conflict, match="already approved by ben"):
        override_decide(
            override=ov, actor=UserFactory(username="maya", role=roles.MANAGER), approve=False
        )


def test_a_refused_override_never_counts_and_frees_the_window(rota):
    rotation, (ana, ben, cy) = rota
    manager = UserFactory(username="maya", role=roles.MANAGER)
    ov = _ask(rotation, cy, ana)
    refused = override_decide(override=ov, actor=manager, approve=False, note="Cy is away")
    assert (refused.state, refused.decided_by, refused.decision_note) == (
        RotationOverride.State.REFUSED,
        manager,
        "Cy is away",
    )
    assert refused.approved_by is None
    assert schedule.on_call_at(rotation, START) == ana
    assert _ask(rotation, ben, ben).state == RotationOverride.State.APPROVED  # window free again


def test_the_page_shows_pending_overrides_with_approve_and_refuse(rota, client):
    rotation, (ana, ben, cy) = rota
    ov = _ask(rotation, cy, ana, at=LATER)
    before = schedule.on_call_at(rotation, LATER)
    assert before != cy
    client.force_login(ana)
    page = client.get("/oncall/")
    assert f'data-override="{ov.pk}"'.encode() in page.content
    assert b"waiting for someone else" in page.content  # Ana asked: no buttons for her
    client.force_login(ben)
    page = client.get("/oncall/")
    assert b'value="approve"' in page.content and b'value="refuse"' in page.content
    response = client.post(f"/oncall/overrides/{ov.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert RotationOverride.objects.get().decided_by == ben
    assert schedule.on_call_at(rotation, LATER) == cy
    page = client.get("/oncall/")
    assert b"approved by ben" in page.content


def test_a_stakeholder_cannot_ask_and_the_form_asks_rather_than_adds(rota, client):
    rotation, (ana, _ben, cy) = rota
    watcher = UserFactory(username="sam", role=roles.STAKEHOLDER)
    client.force_login(watcher)
    url = f"/oncall/rotations/{rotation.pk}/overrides/"
    data = {"user": cy.pk, "starts_at": "2026-03-10 12:00", "ends_at": "2026-03-10 18:00"}
    assert client.post(url, data).status_code == 403
    client.force_login(ana)
    assert client.post(url, data).status_code == 302
    assert RotationOverride.objects.get().state == RotationOverride.State.REQUESTED
