"""Rotations imported from PagerDuty schedules, over real HTTPS to the PagerDuty stand-in
through the ``pagerduty`` library: preview, import, re-import, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from nexusops.common import roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.engine.models import Timer
from oncall import pagerduty_import, schedule
from oncall.models import Rotation
from tests.factories import UserFactory

START = "2026-01-02T17:00:00Z"  # Friday 09:00 in Los Angeles


@pytest.fixture
def team(db):
    return {
        "manager": UserFactory(username="maya", role=roles.MANAGER, email="maya@example.com"),
        "ana": UserFactory(username="ana", role=roles.RESPONDER, email="Ana@Example.com"),
        "ben": UserFactory(username="ben", role=roles.RESPONDER, email="ben@example.com"),
    }


def _load(pagerduty, users=("PANA", "PBEN"), **extra):
    pagerduty.command(
        "schedules",
        {
            "users": [
                {"id": "PANA", "name": "Ana", "email": "ana@example.com"},
                {"id": "PBEN", "name": "Ben", "email": "ben@example.com"},
                {"id": "PNOBODY", "name": "Nora", "email": "nora@elsewhere.example"},
            ],
            "schedules": [
                {
                    "id": "PSCHED1",
                    "name": "Platform primary",
                    "time_zone": "America/Los_Angeles",
                    "start": START,
                    "users": list(users),
                    **extra,
                }
            ],
        },
    )


def test_preview_then_import_makes_the_rotation_and_again_updates_it(pagerduty, team):
    _load(pagerduty)
    preview = pagerduty_import.schedule_preview(schedule_id="psched1", actor=team["manager"])
    assert preview.problems == []
    assert [(m.pagerduty_id, m.user) for m in preview.members] == [
        ("PANA", team["ana"]),  # e-mail matched case-insensitively
        ("PBEN", team["ben"]),
    ]
    assert (preview.handoff_weekday, preview.handoff_time) == (4, dt.time(9, 0))
    assert preview.entries and preview.entries[0]["user"]["id"] in ("PANA", "PBEN")
    assert not Rotation.objects.exists()  # a preview writes nothing

    rotation = pagerduty_import.schedule_import(schedule_id="PSCHED1", actor=team["manager"])
    assert (rotation.name, rotation.time_zone, rotation.pagerduty_schedule_id) == (
        "Platform primary",
        "America/Los_Angeles",
        "PSCHED1",
    )
    assert [m.user for m in rotation.members.all()] == [team["ana"], team["ben"]]
    first = dt.datetime(2026, 1, 2, 17, 0, tzinfo=dt.UTC)
    assert schedule.on_call_at(rotation, first) == team["ana"]
    assert schedule.on_call_at(rotation, first + dt.timedelta(weeks=1)) == team["ben"]
    assert Timer.objects.filter(kind="oncall_handoff", cancelled_at=None).count() == 1

    # PagerDuty's order changes; importing again updates the same rotation.
    _load(pagerduty, users=("PBEN", "PANA"))
    again = pagerduty_import.schedule_import(schedule_id="PSCHED1", actor=team["manager"])
    assert again.pk == rotation.pk and Rotation.objects.count() == 1
    assert [m.user for m in again.members.all()] == [team["ben"], team["ana"]]
    paths = [r["path"] for r in pagerduty.received()]
    assert "/schedules/PSCHED1" in paths and "/users/PANA" in paths
    assert all(
        r["headers"].get("Authorization", "").startswith("Token token=")
        for r in pagerduty.received()
    )


def test_unknown_schedule_and_bad_ids_are_clear_errors(pagerduty, team):
    _load(pagerduty)
    with pytest.raises(ApplicationError, match="PagerDuty has no schedule PNOPE42"):
        pagerduty_import.schedule_preview(schedule_id="PNOPE42", actor=team["manager"])
    assert pagerduty.received()[-1]["status"] == 404
    before = len(pagerduty.received())
    with pytest.raises(ApplicationError, match="not a PagerDuty schedule id"):
        pagerduty_import.schedule_preview(schedule_id="../users", actor=team["manager"])
    assert len(pagerduty.received()) == before  # nothing called


def test_unmatched_people_block_the_import(pagerduty, team):
    _load(pagerduty, users=("PANA", "PNOBODY"))
    preview = pagerduty_import.schedule_preview(schedule_id="PSCHED1", actor=team["manager"])
    assert preview.members[1].user is None
    assert any("nora@elsewhere.example" in p for p in preview.problems)
    with pytest.raises(ApplicationError, match="Not imported: Nora"):
        pagerduty_import.schedule_import(schedule_id="PSCHED1", actor=team["manager"])
    assert not Rotation.objects.exists()


def test_a_daily_layer_is_not_a_weekly_rotation(pagerduty, team):
    _load(pagerduty, turn_seconds=86400)
    preview = pagerduty_import.schedule_preview(schedule_id="PSCHED1", actor=team["manager"])
    assert any("24 hours long" in p for p in preview.problems)


def test_only_a_manager_imports(pagerduty, team):
    _load(pagerduty)
    with pytest.raises(PermissionDeniedError):
        pagerduty_import.schedule_preview(schedule_id="PSCHED1", actor=team["ana"])
    assert pagerduty.received() == []


def test_the_schedule_list_pages_like_pagerduty(pagerduty, team):
    specs = [
        {"id": f"PS{n:03d}", "name": f"Schedule {n}", "start": START, "users": ["PANA"]}
        for n in range(130)
    ]
    pagerduty.command("schedules", {"schedules": specs})
    found = pagerduty_import.schedules_available(actor=team["manager"])
    assert len(found) == 130 and found[0] == {"id": "PS000", "name": "Schedule 0"}
    assert len({s["id"] for s in found}) == 130
    pages = pagerduty.received("/schedules")
    assert len(pages) >= 2  # at most 100 a page: the library followed "more" across pages
    assert all(int(r["query"].get("limit", 25)) <= 100 for r in pages)


def test_the_page_previews_and_imports(pagerduty, team, client):
    _load(pagerduty)
    client.force_login(team["manager"])
    page = client.get("/oncall/pagerduty/")
    assert page.status_code == 200 and b"PSCHED1" in page.content
    preview = client.post("/oncall/pagerduty/", {"schedule_id": "PSCHED1", "action": "preview"})
    assert b"Platform primary" in preview.content and b'value="import"' in preview.content
    done = client.post("/oncall/pagerduty/", {"schedule_id": "PSCHED1", "action": "import"})
    assert done.status_code == 302
    assert Rotation.objects.get().pagerduty_schedule_id == "PSCHED1"
    missing = client.post("/oncall/pagerduty/", {"schedule_id": "PZZZ999", "action": "preview"})
    assert missing.status_code == 400 and b"PagerDuty has no schedule PZZZ999" in missing.content
    client.force_login(team["ana"])
    assert client.get("/oncall/pagerduty/").status_code == 403
