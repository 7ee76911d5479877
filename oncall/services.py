"""Writes for on-call schedules: overrides (cover a window, swap two shifts)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from nexusops.common.errors import ApplicationError, PermissionDeniedError

from . import schedule
from .models import Rotation, RotationOverride

MAX_OVERRIDE = dt.timedelta(weeks=8)


def _require_manager(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not actor.has_perm("oncall.manage_oncall"):
        raise PermissionDeniedError("Only a manager can change the on-call schedule.")


def _validate_window(rotation: Rotation, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if starts_at is None or ends_at is None:
        raise ApplicationError(
            "Give a start and an end.",
            fields={"starts_at": ["Required."], "ends_at": ["Required."]},
        )
    if ends_at <= starts_at:
        raise ApplicationError(
            "The override must end after it starts.", fields={"ends_at": ["Must be after start."]}
        )
    if ends_at - starts_at > MAX_OVERRIDE:
        raise ApplicationError(
            "An override is at most 8 weeks long.", fields={"ends_at": ["Too long."]}
        )
    first = schedule.handoff_at(rotation, 0)
    if starts_at < first:
        raise ApplicationError(
            f"{rotation.name} starts {first:%Y-%m-%d %H:%M} UTC; the override is outside the "
            "rotation.",
            fields={"starts_at": ["Before the rotation starts."]},
        )
    clash = (
        RotationOverride.objects.filter(
            rotation=rotation, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .select_related("user")
        .first()
    )
    if clash is not None:
        raise ApplicationError(
            f"It overlaps {clash.user.get_username()}'s override "
            f"{clash.starts_at:%Y-%m-%d %H:%M}–{clash.ends_at:%Y-%m-%d %H:%M} UTC.",
            fields={"starts_at": ["Overlaps another override."]},
        )


@transaction.atomic
def override_create(
    *,
    rotation: Rotation | int,
    user: AbstractBaseUser,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    actor: AbstractBaseUser | None,
    reason: str = "",
    kind: str = RotationOverride.Kind.COVER,
) -> RotationOverride:
    """``user`` covers [starts_at, ends_at); created by a manager, so approved by them."""
    _require_manager(actor)
    pk = rotation.pk if isinstance(rotation, Rotation) else rotation
    rotation = Rotation.objects.select_for_update().get(pk=pk)  # serialises overlap checks
    _validate_window(rotation, starts_at, ends_at)
    replaces = schedule.on_call_at(rotation, starts_at)
    if replaces is not None and replaces.pk == user.pk:
        raise ApplicationError(
            f"{user.get_username()} is already on call then.", fields={"user": ["Already on call."]}
        )
    return RotationOverride.objects.create(
        rotation=rotation,
        user=user,
        replaces=replaces,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        reason=reason.strip()[:200],
        requested_by=actor,
        approved_by=actor,
    )


@transaction.atomic
def override_swap(
    *,
    rotation: Rotation | int,
    first_shift: int,
    second_shift: int,
    actor: AbstractBaseUser | None,
    reason: str = "",
) -> list[RotationOverride]:
    """The people of two shifts trade them: two overrides, recorded as a swap."""
    _require_manager(actor)
    pk = rotation.pk if isinstance(rotation, Rotation) else rotation
    rotation = Rotation.objects.select_for_update().get(pk=pk)
    a, b = (
        schedule.scheduled_user(rotation, first_shift),
        schedule.scheduled_user(rotation, second_shift),
    )
    if a is None or b is None or first_shift == second_shift:
        raise ApplicationError(
            "Choose two different shifts of the rotation.", fields={"shift": ["Outside it."]}
        )
    tag = reason.strip()[:160] or f"swap {uuid.uuid4().hex[:6]}"
    made = []
    for index, person in ((first_shift, b), (second_shift, a)):
        made.append(
            override_create(
                rotation=rotation,
                user=person,
                starts_at=schedule.handoff_at(rotation, index),
                ends_at=schedule.handoff_at(rotation, index + 1),
                actor=actor,
                reason=tag,
                kind=RotationOverride.Kind.SWAP,
            )
        )
    return made
