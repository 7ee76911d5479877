"""Rotations from PagerDuty schedules (REST API v2): preview, then import, idempotently.

A schedule becomes a rotation when it is what a rotation can say: one weekly layer (turns of
604,800 s, no restrictions) whose people are all console users. Each PagerDuty user is read
(``GET /users/{id}``) and matched by e-mail to exactly one active console account; anyone
unmatched, ambiguous, or a layer a weekly rotation cannot represent is a problem the preview
names, and the import refuses until it is fixed. The rotation remembers the schedule's id,
so importing again updates the same rotation (name, zone, handoff, members in order) instead
of making a second one. Reads happen before the transaction; writes never wait on PagerDuty.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.integrations.errors import IntegrationError, NotConfigured, VendorRejected
from nexusops.integrations.pagerduty.client import PagerDutyClient, rest_api_configured

from .handoff import rotation_timers_arm
from .models import Rotation, RotationMember

logger = logging.getLogger(__name__)
WEEK_SECONDS = 7 * 24 * 3600
SCHEDULE_ID = re.compile(r"^[A-Z0-9]{2,20}$")  # PagerDuty ids: P followed by letters/digits
PREVIEW_WEEKS = 4


@dataclass
class Member:
    pagerduty_id: str
    name: str
    email: str
    user: AbstractBaseUser | None


@dataclass
class Preview:
    schedule_id: str
    name: str
    time_zone: str
    handoff_weekday: int | None = None
    handoff_time: dt.time | None = None
    start_date: dt.date | None = None
    members: list[Member] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)  # PagerDuty's final schedule, next weeks
    rotation: Rotation | None = None  # the rotation an import updates, if imported before
    problems: list[str] = field(default_factory=list)


def _require_manager(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not actor.has_perm("oncall.manage_oncall"):
        raise PermissionDeniedError("Only a manager can import rotations from PagerDuty.")


def _client() -> PagerDutyClient:
    if not rest_api_configured():
        raise ApplicationError(
            "PagerDuty's REST API is not configured (PAGERDUTY_API_URL, PAGERDUTY_API_TOKEN, "
            "PAGERDUTY_FROM_EMAIL)."
        )
    return PagerDutyClient.default()


def _vendor_error(exc: IntegrationError, what: str) -> ApplicationError:
    return ApplicationError(f"PagerDuty did not answer {what}: {exc}")


def schedules_available(*, actor: AbstractBaseUser | None) -> list[dict]:
    """The account's schedules (id and name), for the import page's list."""
    _require_manager(actor)
    try:
        found = _client().schedules_list()
    except (IntegrationError, NotConfigured) as exc:
        raise _vendor_error(exc, "the schedule list") from exc
    return [{"id": s["id"], "name": s.get("name") or s.get("summary", "")} for s in found]


def _match(email: str) -> tuple[AbstractBaseUser | None, str]:
    if not email:
        return None, "has no e-mail in PagerDuty"
    users = list(
        get_user_model().objects.filter(email__iexact=email, is_active=True).order_by("pk")[:2]
    )
    if not users:
        return None, f"({email}) has no active console account with that e-mail"
    if len(users) > 1:
        return None, f"({email}) matches more than one console account"
    return users[0], ""


def schedule_preview(*, schedule_id: str, actor: AbstractBaseUser | None) -> Preview:
    """What importing ``schedule_id`` would make, and what stands in its way. No writes."""
    _require_manager(actor)
    schedule_id = (schedule_id or "").strip().upper()
    if not SCHEDULE_ID.match(schedule_id):
        raise ApplicationError(
            "That is not a PagerDuty schedule id (letters and digits, e.g. PABC123).",
            fields={"schedule_id": ["Not a schedule id."]},
        )
    client = _client()
    now = clock.now()
    until = now + dt.timedelta(weeks=PREVIEW_WEEKS)
    try:
        schedule = client.schedule_get(schedule_id, since=now.isoformat(), until=until.isoformat())
    except VendorRejected as exc:
        if exc.status == 404:
            raise ApplicationError(
                f"PagerDuty has no schedule {schedule_id}.",
                fields={"schedule_id": ["Unknown schedule."]},
            ) from exc
        raise _vendor_error(exc, f"for schedule {schedule_id}") from exc
    except (IntegrationError, NotConfigured) as exc:
        raise _vendor_error(exc, f"for schedule {schedule_id}") from exc
    preview = Preview(
        schedule_id=schedule_id,
        name=(schedule.get("name") or schedule_id)[:100],
        time_zone=schedule.get("time_zone") or "UTC",
        rotation=Rotation.objects.filter(pagerduty_schedule_id=schedule_id).first(),
        entries=(schedule.get("final_schedule") or {}).get("rendered_schedule_entries", []),
    )
    _read_layer(preview, schedule.get("schedule_layers") or [])
    _read_members(preview, client, schedule.get("schedule_layers") or [])
    clash = Rotation.objects.filter(name=preview.name).exclude(pagerduty_schedule_id=schedule_id)
    if clash.exists():
        preview.problems.append(f"A rotation named “{preview.name}” already exists here.")
    return preview


def _read_layer(preview: Preview, layers: list[dict]) -> None:
    try:
        zone = ZoneInfo(preview.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        preview.problems.append(f"Unknown time zone {preview.time_zone!r}.")
        return
    if len(layers) != 1:
        preview.problems.append(
            f"The schedule has {len(layers)} layers; a rotation is one weekly layer."
        )
        if not layers:
            return
    layer = layers[0]
    if layer.get("rotation_turn_length_seconds") != WEEK_SECONDS:
        hours = (layer.get("rotation_turn_length_seconds") or 0) / 3600
        preview.problems.append(f"Its turns are {hours:g} hours long; a rotation hands off weekly.")
    if layer.get("restrictions"):
        preview.problems.append("Its layer has restrictions (on-call only at some hours).")
    try:
        start = dt.datetime.fromisoformat(layer["rotation_virtual_start"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        preview.problems.append("Its layer has no readable start.")
        return
    local = start.astimezone(zone)
    preview.handoff_weekday, preview.start_date = local.weekday(), local.date()
    preview.handoff_time = local.time().replace(tzinfo=None)


def _read_members(preview: Preview, client: PagerDutyClient, layers: list[dict]) -> None:
    ids = [u["user"]["id"] for u in (layers[0].get("users") or [])] if layers else []
    if not ids:
        preview.problems.append("Its layer has nobody on it.")
    for pd_id in ids:
        try:
            user = client.user_get(pd_id)
        except VendorRejected as exc:
            preview.members.append(Member(pd_id, pd_id, "", None))
            preview.problems.append(f"PagerDuty user {pd_id} could not be read ({exc.status}).")
            continue
        except (IntegrationError, NotConfigured) as exc:
            raise _vendor_error(exc, f"for user {pd_id}") from exc
        console, why = _match(user.get("email", ""))
        preview.members.append(
            Member(pd_id, user.get("name", pd_id), user.get("email", ""), console)
        )
        if console is None:
            preview.problems.append(f"{user.get('name', pd_id)} {why}.")
    seen = [m.user.pk for m in preview.members if m.user is not None]
    if len(seen) != len(set(seen)):
        preview.problems.append("One console person is on the layer twice.")


def schedule_import(*, schedule_id: str, actor: AbstractBaseUser | None) -> Rotation:
    """Make or update the rotation for ``schedule_id``; refuses while the preview has problems."""
    preview = schedule_preview(schedule_id=schedule_id, actor=actor)
    if preview.problems:
        raise ApplicationError("Not imported: " + " ".join(preview.problems))
    with transaction.atomic():
        rotation = (
            Rotation.objects.select_for_update()
            .filter(pagerduty_schedule_id=preview.schedule_id)
            .first()
        ) or Rotation(pagerduty_schedule_id=preview.schedule_id)
        rotation.name = preview.name
        rotation.time_zone = preview.time_zone
        rotation.handoff_weekday = preview.handoff_weekday
        rotation.handoff_time = preview.handoff_time
        rotation.start_date = preview.start_date
        rotation.full_clean(exclude=["slack_channel"])
        rotation.save()
        wanted = [m.user.pk for m in preview.members if m.user is not None]
        current = list(rotation.members.order_by("position").values_list("user_id", flat=True))
        if current != wanted:
            rotation.members.all().delete()
            RotationMember.objects.bulk_create(
                RotationMember(rotation=rotation, user_id=pk, position=i)
                for i, pk in enumerate(wanted)
            )
        rotation_timers_arm(rotation)
    logger.info("rotation %s imported from PagerDuty schedule %s", rotation.pk, schedule_id)
    return rotation
