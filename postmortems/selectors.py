"""Reads: the post-mortem as a document, what a viewer may read, and the action-item lists."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from incidents.models import Incident, TimelineEvent
from nexusops.common import clock
from nexusops.common.errors import NotFoundError, PermissionDeniedError
from nexusops.common.services import actor_name

from .models import SECTIONS, ActionItem, PostMortem, PostMortemRevision


def _duration_text(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "not resolved"
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def incident_duration(incident: Incident) -> dt.timedelta | None:
    """Detection to resolution, as the incident's timeline recorded the resolve."""
    event = (
        TimelineEvent.objects.filter(
            incident=incident, kind="status_changed", data__action="resolve"
        )
        .order_by("-created_at", "-id")
        .first()
    )
    resolved = event.created_at if event else incident.resolved_at
    return resolved - incident.detected_at if resolved else None


def postmortem_document(*, postmortem: PostMortem) -> dict:
    """Everything a reader sees, as plain data: the snapshot of an approval and the exports."""
    incident = postmortem.incident
    duration = incident_duration(incident)
    return {
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity.code,
        "revision": postmortem.revision,
        "detected_at": incident.detected_at.isoformat(),
        "duration_minutes": int(duration.total_seconds() // 60) if duration else None,
        "duration": _duration_text(duration),
        "impact_users": postmortem.impact_users,
        "services": [s.slug for s in postmortem.impact_services.all()],
        "sections": [
            {"key": key, "heading": heading, "text": getattr(postmortem, key)}
            for key, heading in SECTIONS
        ],
        "timeline": [
            {"at": e.at.isoformat(), "text": e.text}
            for e in postmortem.entries.filter(included=True)
        ],
        "action_items": [
            {
                "description": a.description,
                "owner": actor_name(a.owner),
                "due_date": a.due_date.isoformat(),
                "priority": a.get_priority_display(),
                "status": a.get_status_display(),
                "tracker_url": a.tracker_url,
            }
            for a in postmortem.action_items.select_related("owner")
        ],
    }


def postmortem_get(*, number: str) -> PostMortem:
    postmortem = (
        PostMortem.objects.select_related("incident__severity", "incident__commander")
        .filter(incident__number=number.upper())
        .first()
    )
    if postmortem is None:
        raise NotFoundError(f"{number} has no post-mortem.")
    return postmortem


def can_read_drafts(user: User) -> bool:
    return user.has_perm("postmortems.view_draft")


def readable_document(*, postmortem: PostMortem, user: User) -> tuple[dict, dict]:
    """(document, meta) the user may read: the live text for writers, else the published one."""
    if can_read_drafts(user):
        return postmortem_document(postmortem=postmortem), {"live": True}
    if postmortem.published_revision is None:
        raise PermissionDeniedError("This post-mortem is not published yet.")
    revision = PostMortemRevision.objects.get(
        postmortem=postmortem, number=postmortem.published_revision
    )
    return revision.snapshot, {"live": False, "revision": revision}


def postmortem_list(*, user: User, state: str = "") -> QuerySet[PostMortem]:
    qs = PostMortem.objects.select_related("incident__severity").order_by("-created_at", "-id")
    if not can_read_drafts(user):
        return qs.filter(published_revision__isnull=False)
    now = clock.now()
    if state == "overdue":
        qs = qs.filter(meeting_scheduled_at__isnull=True, due_at__lte=now)
    elif state in PostMortem.Status.values:
        qs = qs.filter(status=state)
    return qs


def action_item_list(
    *,
    owner: int | None = None,
    service: str = "",
    due_before: dt.date | None = None,
    state: str = "open",
) -> QuerySet[ActionItem]:
    """``state``: open (default), overdue, done, all."""
    today = clock.now().astimezone(dt.UTC).date()
    qs = ActionItem.objects.select_related("owner", "postmortem__incident").order_by(
        "due_date", "id"
    )
    if state == "open":
        qs = qs.filter(status__in=ActionItem.OPEN_STATUSES)
    elif state == "overdue":
        qs = qs.filter(status__in=ActionItem.OPEN_STATUSES, due_date__lt=today)
    elif state == "done":
        qs = qs.filter(~Q(status__in=ActionItem.OPEN_STATUSES))
    if owner:
        qs = qs.filter(owner_id=owner)
    if service:
        qs = qs.filter(postmortem__incident__services__slug=service).distinct()
    if due_before:
        qs = qs.filter(due_date__lte=due_before)
    return qs
