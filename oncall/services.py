"""Writes for on-call schedules: overrides (cover a window, swap two shifts) and their approval.

An override changes who is on call only once approved. It is approved at once when the person
taking the shift asked for it; otherwise a second person decides: a manager
(``oncall.manage_oncall``) or someone on the rotation, never the one who asked. Each decision is
recorded on the override (who, when, why); the rotation row is locked first by every write,
so a decision and a new request never interleave, and an override is decided exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError

from . import schedule
from .models import Rotation, RotationOverride

MAX_OVERRIDE = dt.timedelta(weeks=8)
logger = logging.getLogger(__name__)


def _on_rotation(rotation: Rotation, user: AbstractBaseUser) -> bool:
    return rotation.members.filter(user_id=user.pk).exists()


def _require_may_request(
    rotation: Rotation, actor: AbstractBaseUser | None, user: AbstractBaseUser
) -> None:
    """A manager, someone on the rotation, or the person offering to take the shift."""
    if actor is None or actor.has_perm("oncall.manage_oncall") or actor.pk == user.pk:
        return
    if not _on_rotation(rotation, actor):
        raise PermissionDeniedError(
            "Only a manager or someone on the rotation can ask for an override."
        )


def _require_may_decide(override: RotationOverride, actor: AbstractBaseUser) -> None:
    if override.requested_by_id == actor.pk:
        raise PermissionDeniedError(
            "Someone else must approve an override you asked for: a manager or someone on "
            "the rotation."
        )
    if not (actor.has_perm("oncall.manage_oncall") or _on_rotation(override.rotation, actor)):
        raise PermissionDeniedError(
            "Only a manager or someone on the rotation can approve or refuse an override."
        )


def _validate_window(
    rotation: Rotation, starts_at: dt.datetime, ends_at: dt.datetime, exclude: int | None = None
) -> None:
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
        .exclude(state=RotationOverride.State.REFUSED)
        .exclude(pk=exclude)
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
    """``user`` covers [starts_at, ends_at), asked for by ``actor``: approved at once when the
    actor is ``user`` (or the system, ``None``), otherwise waiting for a second person."""
    pk = rotation.pk if isinstance(rotation, Rotation) else rotation
    rotation = Rotation.objects.select_for_update().get(pk=pk)  # serialises overlap checks
    _require_may_request(rotation, actor, user)
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
        **_decision(actor, user),
    )


def _decision(actor: AbstractBaseUser | None, user: AbstractBaseUser) -> dict:
    if actor is not None and actor.pk != user.pk:
        return {"state": RotationOverride.State.REQUESTED}
    return {
        "state": RotationOverride.State.APPROVED,
        "approved_by": actor,
        "decided_by": actor,
        "decided_at": clock.now(),
        "decision_note": "asked for by the person taking the shift" if actor else "",
    }


@transaction.atomic
def override_decide(
    *, override: RotationOverride | int, actor: AbstractBaseUser, approve: bool, note: str = ""
) -> RotationOverride:
    """Approve or refuse an override waiting for approval; only an approved one counts.

    Locks the rotation (as every override write does), then the override: of two people
    deciding at once, the second sees the first's decision and is told so."""
    pk = override.pk if isinstance(override, RotationOverride) else override
    rotation_id = RotationOverride.objects.values_list("rotation_id", flat=True).get(pk=pk)
    rotation = Rotation.objects.select_for_update().get(pk=rotation_id)
    override = (
        RotationOverride.objects.select_for_update(of=("self",))
        .select_related("rotation", "user")
        .get(pk=pk)
    )
    _require_may_decide(override, actor)
    if override.state != RotationOverride.State.REQUESTED:
        who = override.decided_by.get_username() if override.decided_by else "someone"
        raise Conflict(f"This override was already {override.state} by {who}.")
    if approve:
        _validate_window(rotation, override.starts_at, override.ends_at, exclude=override.pk)
        override.replaces = schedule.on_call_at(rotation, override.starts_at)
        override.approved_by = actor
    override.state = RotationOverride.State.APPROVED if approve else RotationOverride.State.REFUSED
    override.decided_by = actor
    override.decided_at = clock.now()
    override.decision_note = " ".join(note.split())[:200]
    override.save(
        update_fields=[
            "state",
            "replaces",
            "approved_by",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
    )
    logger.info("override %s of %s %s by %s", override.pk, rotation.name, override.state, actor.pk)
    return override


@transaction.atomic
def override_swap(
    *,
    rotation: Rotation | int,
    first_shift: int,
    second_shift: int,
    actor: AbstractBaseUser | None,
    reason: str = "",
) -> list[RotationOverride]:
    """The people of two shifts trade them: two overrides, recorded as a swap (each approved
    at once only if ``actor`` takes that shift)."""
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
