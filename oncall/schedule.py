"""Who is on call when: computed from a rotation and its overrides, never stored per shift.

Handoffs are wall-clock times in the rotation's zone (Friday 09:00 America/Los_Angeles), so a
week across a daylight-saving change is 167 or 169 hours long and the handoff stays at 09:00.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser

from nexusops.common import clock

from .models import Rotation, RotationMember, RotationOverride

WEEK = dt.timedelta(weeks=1)


@dataclass(frozen=True)
class Shift:
    rotation: Rotation
    user: AbstractBaseUser
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    index: int  # the rotation's shift number (0 is the first)
    override: RotationOverride | None = None

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def first_handoff_day(rotation: Rotation) -> dt.date:
    """The rotation's first handoff day: its start date, moved forward to the handoff weekday."""
    ahead = (rotation.handoff_weekday - rotation.start_date.weekday()) % 7
    return rotation.start_date + dt.timedelta(days=ahead)


def handoff_at(rotation: Rotation, index: int) -> dt.datetime:
    """When shift ``index`` starts, in UTC: the local wall-clock handoff, DST applied."""
    day = first_handoff_day(rotation) + dt.timedelta(weeks=index)
    local = dt.datetime.combine(day, rotation.handoff_time, tzinfo=ZoneInfo(rotation.time_zone))
    return local.astimezone(dt.UTC)


def shift_index(rotation: Rotation, at: dt.datetime) -> int:
    """The number of the shift running at ``at`` (negative before the rotation starts)."""
    index = int((at - handoff_at(rotation, 0)) // WEEK)
    while handoff_at(rotation, index) > at:
        index -= 1
    while handoff_at(rotation, index + 1) <= at:
        index += 1
    return index


def _members(rotation: Rotation) -> list[RotationMember]:
    cached = getattr(rotation, "_members_cache", None)
    if cached is None:
        cached = list(rotation.members.select_related("user__profile").order_by("position"))
        rotation._members_cache = cached
    return cached


def scheduled_user(rotation: Rotation, index: int) -> AbstractBaseUser | None:
    members = _members(rotation)
    if index < 0 or not members:
        return None
    return members[index % len(members)].user


def _overrides(rotation: Rotation, start: dt.datetime, end: dt.datetime) -> list[RotationOverride]:
    return list(
        RotationOverride.objects.filter(
            rotation=rotation,
            state=RotationOverride.State.APPROVED,  # requested and refused ones do not count
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .select_related("user__profile", "replaces")
        .order_by("starts_at")
    )


def shifts(rotation: Rotation, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """Every stretch of on-call time in [start, end), clipped, overrides carved in."""
    if end <= start:
        return []
    first = max(shift_index(rotation, start), 0)
    last = shift_index(rotation, end - dt.timedelta(microseconds=1))
    overrides = _overrides(rotation, start, end)
    result: list[Shift] = []
    for index in range(first, last + 1):
        user = scheduled_user(rotation, index)
        lo = max(handoff_at(rotation, index), start)
        hi = min(handoff_at(rotation, index + 1), end)
        cursor = lo
        for ov in overrides:
            if ov.ends_at <= cursor or ov.starts_at >= hi:
                continue
            if ov.starts_at > cursor and user is not None:
                result.append(Shift(rotation, user, cursor, ov.starts_at, index))
            ov_end = min(ov.ends_at, hi)
            result.append(Shift(rotation, ov.user, max(ov.starts_at, cursor), ov_end, index, ov))
            cursor = ov_end
        if cursor < hi and user is not None:
            result.append(Shift(rotation, user, cursor, hi, index))
    return result


def on_call_at(rotation: Rotation, at: dt.datetime | None = None) -> AbstractBaseUser | None:
    """Who is on call for ``rotation`` at ``at`` (default now): an override, else the order."""
    at = at or clock.now()
    found = shifts(rotation, at, at + dt.timedelta(seconds=1))
    return found[0].user if found else None


def default_rotation() -> Rotation | None:
    return Rotation.objects.filter(active=True).order_by("name", "pk").first()


def user_shifts(user: AbstractBaseUser, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """``user``'s own stretches on call in [start, end), across every active rotation."""
    found: list[Shift] = []
    for rotation in Rotation.objects.filter(active=True):
        found += [s for s in shifts(rotation, start, end) if s.user.pk == user.pk]
    return sorted(found, key=lambda s: s.starts_at)
