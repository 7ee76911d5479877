"""The Friday on-call handoff note lists the open post-mortem action items (postmortems answers
on-call's ``HandoffSections``), driven through the handoff timer as the sweep fires it."""

import datetime as dt

import pytest

from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.timers import timers_sweep
from oncall import schedule
from oncall.handoff import rotation_timers_arm
from oncall.models import Rotation, RotationMember
from postmortems import messages
from postmortems.services import action_item_create, action_item_update
from tests.factories import UserFactory
from tests.postmortems.helpers import postmortem

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def _rotation() -> Rotation:
    rotation = Rotation.objects.create(
        name="Primary", start_date=dt.date(2026, 1, 2), slack_channel="C0NCALL"
    )
    for i, name in enumerate(("ana", "ben")):
        RotationMember.objects.create(
            rotation=rotation, user=UserFactory(username=name), position=i
        )
    return rotation


def _handoff_text(rotation: Rotation) -> str:
    """Arm the rotation's timers now, sweep at its next handoff, return the note as mailed to
    the person coming on call."""
    rotation_timers_arm(rotation)
    starts = schedule.handoff_at(rotation, schedule.shift_index(rotation, clock.now()) + 1)
    with clock.frozen(starts):
        timers_sweep()
    mail = OutboxMessage.objects.get(target="email.oncall", key__startswith="oncall:handoff:")
    return mail.payload["body"]


def _item(pm, actor, owner, text: str, due: dt.date):  # noqa: ANN001, ANN202
    return action_item_create(
        postmortem=pm, actor=actor, description=text, owner=owner, due_date=due
    )


def test_the_handoff_lists_open_items_soonest_first_and_marks_the_overdue(ic, settings):
    settings.SITE_URL = "https://nexusops.example.com"
    olga = UserFactory(username="olga", first_name="Olga", last_name="Ortiz")
    with clock.frozen(T0):
        rotation = _rotation()
        pm = postmortem(actor=ic)
        _item(pm, ic, olga, "Add a config canary\nwith a rollback hook", dt.date(2026, 3, 10))
        _item(pm, ic, olga, "Alert on replica lag", dt.date(2026, 3, 4))
        done = _item(pm, ic, olga, "Write the runbook page", dt.date(2026, 3, 5))
        action_item_update(item=done, actor=olga, status="done")
        text = _handoff_text(rotation)  # Friday 6 March, 09:00 Pacific
    number = pm.incident.number
    section = text[text.index("Open post-mortem action items") :].splitlines()
    assert section == [
        "Open post-mortem action items (2):",
        f"• {number}: Alert on replica lag — Olga Ortiz, due 2026-03-04 — OVERDUE",
        f"• {number}: Add a config canary — Olga Ortiz, due 2026-03-10",
        "All: https://nexusops.example.com/action-items/",
    ]
    assert "Write the runbook page" not in text
    # The rest of the note is there too: the week's incidents and the open ones.
    assert "Incidents of the past week (1):" in text and f"• {number} [P1]" in text


def test_more_items_than_the_note_lists_say_how_many_more(ic, settings, monkeypatch):
    monkeypatch.setattr(messages, "HANDOFF_ITEMS", 2)
    settings.SITE_URL = "https://nexusops.example.com/"
    owner = UserFactory(username="olga")
    with clock.frozen(T0):
        rotation = _rotation()
        pm = postmortem(actor=ic)
        for day in (10, 11, 12, 13):
            _item(pm, ic, owner, f"Item due on the {day}th", dt.date(2026, 3, day))
        text = _handoff_text(rotation)
    assert "Open post-mortem action items (4):" in text
    assert "Item due on the 11th" in text and "Item due on the 12th" not in text
    assert text.endswith("2 more: https://nexusops.example.com/action-items/")


def test_no_open_items_no_section(ic):
    with clock.frozen(T0):
        rotation = _rotation()
        text = _handoff_text(rotation)
    assert "Open post-mortem action items" not in text
    assert "Open incidents (0):" in text
