"""What a person does to an alert group: acknowledge it, silence it for a while, or retry
processing it after it failed."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.common.services import Permissions, lock_row

from ..models import AlertGroup, AlertProcessingFailure

MAX_SILENCE = dt.timedelta(days=7)
require = Permissions(
    "alerts",
    {
        "acknowledge_alertgroup": "acknowledge alert groups",
        "silence_alertgroup": "silence alert groups",
    },
).require


def _lock(group: AlertGroup | int) -> AlertGroup:
    return lock_row(AlertGroup.objects.all(), group, "No such alert group.")


@transaction.atomic
def alert_group_acknowledge(*, group: AlertGroup | int, actor: User | None) -> AlertGroup:
    require(actor, "acknowledge_alertgroup")
    group = _lock(group)
    group.acknowledged_at = clock.now()
    group.acknowledged_by = actor
    group.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return group


@transaction.atomic
def alert_group_silence(
    *,
    group: AlertGroup | int,
    actor: User | None,
    minutes: int | None,
    reason: str,
) -> AlertGroup:
    """Hold back this group's notifications for ``minutes`` (0 lifts the silence)."""
    require(actor, "silence_alertgroup")
    reason = " ".join((reason or "").split())
    if minutes is None or minutes < 0 or dt.timedelta(minutes=minutes) > MAX_SILENCE:
        raise ApplicationError(
            "Silence for 0 to 10080 minutes (7 days).",
            fields={"minutes": ["Between 0 and 10080."]},
        )
    if minutes and not reason:
        raise ApplicationError("Say why you silence it.", fields={"reason": ["Required."]})
    if len(reason) > 500:
        raise ApplicationError("The reason is too long.", fields={"reason": ["At most 500."]})
    group = _lock(group)
    now = clock.now()
    if minutes:
        group.silenced_until = now + dt.timedelta(minutes=minutes)
        group.silence_reason, group.silenced_by = reason, actor
    else:
        group.silenced_until, group.silence_reason, group.silenced_by = None, "", None
    group.save(update_fields=["silenced_until", "silence_reason", "silenced_by"])
    return group


@transaction.atomic
def alert_processing_retry(
    *, failure: AlertProcessingFailure | int, actor: User | None
) -> AlertProcessingFailure:
    """A person asks to process a failed group's waiting events again, now.

    The failure keeps its history but gets a fresh set of attempts; if it fails again it
    backs off and, after ``ALERTS_GROUP_MAX_ATTEMPTS``, is dead again.
    """
    from .ingest import processing_schedule

    require(actor, "acknowledge_alertgroup", words="retry alert processing")
    found = lock_row(
        AlertProcessingFailure.objects.all(),
        failure,
        "No such failed alert group (it may have been processed since).",
    )
    found.attempts, found.dead_at, found.next_attempt_at = 0, None, clock.now()
    found.save(update_fields=["attempts", "dead_at", "next_attempt_at"])
    transaction.on_commit(processing_schedule)
    return found
