import datetime as dt

import pytest

from nexusops.common import roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from oncall import schedule
from oncall.models import Rotation, RotationMember, RotationOverride
from oncall.services import override_create, override_decide, override_swap
from tests.factories import UserFactory

UTC = dt.UTC


@pytest.fixture
def rota(db):
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    people = [UserFactory(username=n) for n in ("ana", "ben", "cy")]
    for i, u in enumerate(people):
        RotationMember.objects.create(rotation=rotation, user=u, position=i)
    manager = UserFactory(username="maya", role=roles.MANAGER)
    return rotation, people, manager


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # March: DST starts Sun 8 Mar 2026. 09:00 PST is 17:00 UTC, 09:00 PDT is 16:00 UTC.
        (dt.datetime(2026, 3, 6, 17, 0, tzinfo=UTC), dt.datetime(2026, 3, 13, 16, 0, tzinfo=UTC)),
        # November: DST ends Sun 1 Nov 2026.
        (dt.datetime(2026, 10, 30, 16, 0, tzinfo=UTC), dt.datetime(2026, 11, 6, 17, 0, tzinfo=UTC)),
    ],
)
def test_handoff_stays_friday_0900_pacific_across_dst(rota, before, after):
    rotation, people, _ = rota
    i = schedule.shift_index(rotation, before)
    assert schedule.handoff_at(rotation, i) == before
    assert schedule.handoff_at(rotation, i + 1) == after
    local = after.astimezone(schedule.ZoneInfo("America/Los_Angeles"))
    assert (local.weekday(), local.hour, local.minute) == (4, 9, 0)
    one_s = dt.timedelta(seconds=1)
    # Not at 08:00 or 10:00 local: the hand-over happens exactly at 09:00.
    assert schedule.on_call_at(rotation, after - one_s) == people[i % 3]
    assert schedule.on_call_at(rotation, after) == people[(i + 1) % 3]
    assert schedule.on_call_at(rotation, after - dt.timedelta(hours=1)) == people[i % 3]
    hours = (after - before).total_seconds() / 3600
    assert hours == (167 if before.month == 3 else 169)


def test_nobody_before_the_rotation_starts(rota):
    rotation, people, _ = rota
    assert schedule.on_call_at(rotation, dt.datetime(2026, 1, 2, 16, 59, tzinfo=UTC)) is None
    assert schedule.on_call_at(rotation, dt.datetime(2026, 1, 2, 17, 0, tzinfo=UTC)) == people[0]


def test_override_covers_a_window_with_who_approved(rota):
    rotation, people, manager = rota
    start = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    ov = override_create(
        rotation=rotation,
        user=people[2],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=6),
        actor=manager,
        reason="dentist",
    )
    # Maya asked for Cy: it waits for a second person and changes nothing until then.
    assert ov.state == RotationOverride.State.REQUESTED and ov.approved_by is None
    assert schedule.on_call_at(rotation, start) == people[0]
    ov = override_decide(override=ov, actor=people[1], approve=True, note="fine by me")
    assert ov.approved_by == people[1] and ov.replaces == people[0]  # shift 9 is Ana's
    assert (ov.decided_by, ov.decision_note) == (people[1], "fine by me")
    assert schedule.on_call_at(rotation, start) == people[2]
    assert schedule.on_call_at(rotation, start + dt.timedelta(hours=6)) == people[0]
    cut = schedule.shifts(rotation, start - dt.timedelta(hours=1), start + dt.timedelta(hours=7))
    assert [(s.user.username, s.hours) for s in cut] == [("ana", 1), ("cy", 6), ("ana", 1)]


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ((2026, 3, 10, 14), (2026, 3, 10, 20), "overlaps cy's override"),
        ((2026, 3, 10, 20), (2026, 3, 10, 19), "must end after it starts"),
        ((2025, 12, 1, 0), (2025, 12, 2, 0), "outside the rotation"),
    ],
)
def test_bad_overrides_are_refused_and_nothing_saved(rota, starts, ends, message):
    rotation, people, manager = rota
    start = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    override_create(
        rotation=rotation,
        user=people[2],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=6),
        actor=manager,
    )
    with pytest.raises(ApplicationError, match=message):
        override_create(
            rotation=rotation,
            user=people[0],
            starts_at=dt.datetime(*starts, tzinfo=UTC),
            ends_at=dt.datetime(*ends, tzinfo=UTC),
            actor=manager,
        )
    assert RotationOverride.objects.count() == 1


def test_only_a_manager_or_someone_on_the_rotation_asks_for_another_to_cover(rota):
    rotation, people, _ = rota
    outsider = UserFactory(username="otto", role=roles.RESPONDER)
    with pytest.raises(PermissionDeniedError):
        override_create(
            rotation=rotation,
            user=people[0],
            starts_at=dt.datetime(2026, 3, 10, tzinfo=UTC),
            ends_at=dt.datetime(2026, 3, 11, tzinfo=UTC),
            actor=outsider,
        )
    assert not RotationOverride.objects.exists()


def test_swap_trades_two_shifts(rota):
    rotation, people, manager = rota
    made = override_swap(rotation=rotation, first_shift=10, second_shift=11, actor=manager)
    mid10 = schedule.handoff_at(rotation, 10) + dt.timedelta(days=3)
    assert schedule.on_call_at(rotation, mid10) == people[10 % 3]  # not approved yet
    for override in made:
        override_decide(override=override, actor=people[0], approve=True)
    mid10 = schedule.handoff_at(rotation, 10) + dt.timedelta(days=3)
    mid11 = schedule.handoff_at(rotation, 11) + dt.timedelta(days=3)
    assert schedule.on_call_at(rotation, mid10) == people[11 % 3]
    assert schedule.on_call_at(rotation, mid11) == people[10 % 3]
