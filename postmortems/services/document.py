"""Creating, writing and scheduling a post-mortem (runbook 2.2 step 6)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from incidents.models import Incident, Service, TimelineEvent
from incidents.services.checklist import checklist_tick
from incidents.services.common import lock
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.services import actor_name
from nexusops.common.text import fmt
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue
from nexusops.engine.timers import timers_cancel

from .. import messages
from ..models import (
    SECTION_FIELDS,
    PostMortem,
    PostMortemDraft,
    PostMortemReview,
    PostMortemTimelineEntry,
)
from .common import EMAIL, lock_postmortem, policy, require

SCHEDULE_DUE = "postmortem_schedule_due"
MEETING_REMINDER = "postmortem_meeting_reminder"
# Timeline kinds that make the post-mortem's timeline by default; the rest are offered unticked.
KEY_KINDS = {
    "declared",
    "status_changed",
    "assigned",
    "updated",
    "escalated",
    "sla_breached",
    "public_update",
    "update",
    "monitoring_complete",
}
MAX_TEXT = 20_000
ENTRY_LIMIT = 500


def _generate_entries(postmortem: PostMortem) -> None:
    events = TimelineEvent.objects.filter(
        incident_id=postmortem.incident_id, visibility=TimelineEvent.Visibility.PUBLIC
    ).order_by("created_at", "id")[:ENTRY_LIMIT]
    PostMortemTimelineEntry.objects.bulk_create(
        [
            PostMortemTimelineEntry(
                postmortem=postmortem,
                source=event,
                at=event.created_at,
                text=f"{event.message} ({event.actor_name})" if event.actor_name else event.message,
                included=event.kind in KEY_KINDS,
            )
            for event in events
        ]
    )


@transaction.atomic
def postmortem_create(
    *,
    incident: Incident | int,
    actor: User | None = None,
    required: bool | None = None,
    reason: str = "",
) -> PostMortem:
    """The post-mortem of ``incident``; made on first call, returned as it is afterwards.

    Called when an incident resolves (required for the policy's severities), by a person for
    any other incident, and by the hotfix flow. ``required=None`` asks the policy.
    """
    require(actor, "edit_postmortem")
    incident = lock(incident)
    existing = PostMortem.objects.filter(incident=incident).first()
    if existing is not None:
        if required and not existing.required:
            existing.required = True
            existing.save(update_fields=["required"])
        return existing
    rules = policy()
    if required is None:
        required = incident.severity.code in rules.required_codes
    now = clock.now()
    start = incident.resolved_at or now
    postmortem = PostMortem.objects.create(
        incident=incident,
        required=required,
        reason=reason[:200],
        summary=incident.summary,
        impact=incident.impact_description,
        impact_users=incident.impact_users,
        due_at=start + rules.schedule_within,
        created_at=now,
        updated_at=now,
        updated_by=actor,
        updated_by_name=actor_name(actor),
    )
    postmortem.impact_services.set(incident.services.all())
    _generate_entries(postmortem)
    Timer.objects.create(
        incident=incident,
        kind=SCHEDULE_DUE,
        due_at=postmortem.due_at,
        data={"postmortem": postmortem.pk},
    )
    timeline_append(
        incident=incident,
        kind="postmortem_created",
        actor=actor,
        message=f"Post-mortem opened{' (required)' if required else ''}: schedule the meeting "
        f"by {fmt(postmortem.due_at)}.",
        data={"postmortem": postmortem.pk, "required": required, "reason": reason},
        at=now,
    )
    return postmortem


def _clean(data: dict) -> tuple[dict, dict[str, list[str]]]:
    clean: dict = {}
    errors: dict[str, list[str]] = {}
    for name in SECTION_FIELDS:
        if name in data:
            text = str(data[name] or "").replace("\r\n", "\n")
            if len(text) > MAX_TEXT:
                errors[name] = [f"Keep it under {MAX_TEXT:,} characters."]
            clean[name] = text
    if "impact_users" in data:
        raw = data["impact_users"]
        if raw in (None, ""):
            clean["impact_users"] = None
        else:
            try:
                clean["impact_users"] = int(raw)
                if clean["impact_users"] < 0:
                    raise ValueError
            except (TypeError, ValueError):
                errors["impact_users"] = ["Enter a whole number of users, 0 or more."]
    if "impact_services" in data:
        slugs = [s for s in data["impact_services"] or [] if s]
        found = list(Service.objects.filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {s.slug for s in found})
        if unknown:
            errors["impact_services"] = [f"Unknown service(s): {', '.join(unknown)}."]
        clean["impact_services"] = found
    return clean, errors


@transaction.atomic
def postmortem_update(
    *,
    postmortem: PostMortem | int,
    actor: User | None,
    expected_version: int,
    data: dict,
) -> PostMortem:
    """Save sections; refuse to overwrite a newer save (last-writer detection).

    Editing an approved post-mortem starts its next revision (back to draft); the approved
    text stays in its ``PostMortemRevision``.
    """
    require(actor, "edit_postmortem")
    postmortem = lock_postmortem(postmortem)
    if postmortem.version != expected_version:
        raise Conflict(
            f"{postmortem.updated_by_name or 'Someone'} saved a newer version at "
            f"{fmt(postmortem.updated_at)} after you started editing. Your text is kept as "
            "your draft: reload to see theirs, then merge and save again.",
            code="stale_version",
            extra={"current_version": postmortem.version},
        )
    clean, errors = _clean(data)
    if errors:
        raise ApplicationError("Check the highlighted fields.", fields=errors)
    now = clock.now()
    if postmortem.status == PostMortem.Status.APPROVED:
        postmortem.revision += 1
        postmortem.status = PostMortem.Status.DRAFT
        PostMortemReview.objects.create(
            postmortem=postmortem,
            revision=postmortem.revision,
            action="revision",
            actor=actor,
            actor_name=actor_name(actor),
            created_at=now,
        )
        timeline_append(
            incident=postmortem.incident,
            kind="postmortem_revision",
            actor=actor,
            internal=True,
            message=f"Post-mortem revision {postmortem.revision} started "
            f"(revision {postmortem.revision - 1} stays approved).",
            data={"postmortem": postmortem.pk, "revision": postmortem.revision},
            at=now,
        )
    services = clean.pop("impact_services", None)
    for name, value in clean.items():
        setattr(postmortem, name, value)
    postmortem.version += 1
    postmortem.updated_at = now
    postmortem.updated_by = actor
    postmortem.updated_by_name = actor_name(actor)
    postmortem.save()
    if services is not None:
        postmortem.impact_services.set(services)
    if actor is not None:
        PostMortemDraft.objects.filter(postmortem=postmortem, user=actor).delete()
    if postmortem.root_cause.strip():
        checklist_tick(postmortem.incident, "document_root_cause", actor=actor)
    return postmortem


@transaction.atomic
def postmortem_autosave(
    *, postmortem: PostMortem | int, actor: User, base_version: int, data: dict
) -> PostMortemDraft:
    """Keep one person's unsaved text; nobody else sees it and nothing is overwritten."""
    require(actor, "edit_postmortem")
    pk = postmortem.pk if isinstance(postmortem, PostMortem) else postmortem
    keep = {k: str(v)[:MAX_TEXT] for k, v in data.items() if k in SECTION_FIELDS}
    draft, _ = PostMortemDraft.objects.update_or_create(
        postmortem_id=pk,
        user=actor,
        defaults={"base_version": base_version, "data": keep, "saved_at": clock.now()},
    )
    return draft


@transaction.atomic
def postmortem_entry_update(
    *,
    entry: PostMortemTimelineEntry | int,
    actor: User | None,
    text: str,
    included: bool,
) -> PostMortemTimelineEntry:
    """Edit the post-mortem's copy of an event; the incident's own record never changes."""
    require(actor, "edit_postmortem")
    pk = entry.pk if isinstance(entry, PostMortemTimelineEntry) else entry
    entry = PostMortemTimelineEntry.objects.select_for_update().get(pk=pk)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("A timeline line needs text.", fields={"text": ["Required."]})
    entry.text, entry.included = text[:MAX_TEXT], included
    entry.save(update_fields=["text", "included"])
    return entry


@transaction.atomic
def postmortem_schedule(
    *,
    postmortem: PostMortem | int,
    actor: User | None,
    meeting_at: dt.datetime | None,
    attendees: list,
) -> PostMortem:
    """Record the meeting, invite by email and in the incident's channel, set the reminder."""
    require(actor, "edit_postmortem")
    postmortem = lock_postmortem(postmortem)
    incident = lock(postmortem.incident_id)
    now = clock.now()
    errors: dict[str, list[str]] = {}
    if meeting_at is None:
        errors["meeting_at"] = ["Give the meeting's date and time."]
    elif meeting_at <= now:
        errors["meeting_at"] = ["The meeting must be in the future."]
    if not attendees:
        errors["attendees"] = ["Invite at least one person."]
    if errors or meeting_at is None:
        raise ApplicationError("The meeting cannot be scheduled.", fields=errors)
    rescheduled = postmortem.meeting_at is not None
    postmortem.meeting_at = meeting_at
    if postmortem.meeting_scheduled_at is None:
        postmortem.meeting_scheduled_at = now
    postmortem.save(update_fields=["meeting_at", "meeting_scheduled_at"])
    postmortem.attendees.set(attendees)
    Timer.objects.filter(
        kind=MEETING_REMINDER,
        data__postmortem=postmortem.pk,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=now)
    timers_cancel(incident, SCHEDULE_DUE)
    Timer.objects.create(
        incident=incident,
        kind=MEETING_REMINDER,
        due_at=max(now, meeting_at - policy().meeting_reminder_before),
        data={"postmortem": postmortem.pk, "meeting_at": meeting_at.isoformat()},
    )
    checklist_tick(incident, "schedule_postmortem", actor=actor)
    stamp = meeting_at.strftime("%Y%m%d%H%M")
    invitation = messages.invitation(postmortem, rescheduled=rescheduled)
    for person in attendees:
        if person.email:
            outbox_enqueue(
                target=EMAIL,
                key=f"pm{postmortem.pk}:invite:{stamp}:{person.pk}",
                incident=incident,
                payload={"to": [person.email], **invitation},
            )
    outbox_enqueue(
        target="slack.post",
        key=f"{incident.number}:pm-invite:{stamp}",
        incident=incident,
        payload={"text": messages.invitation_slack(postmortem, attendees)},
    )
    names = ", ".join(actor_name(p) for p in attendees)
    timeline_append(
        incident=incident,
        kind="postmortem_scheduled",
        actor=actor,
        message=f"Post-mortem meeting {'moved to' if rescheduled else 'scheduled for'} "
        f"{fmt(meeting_at)} with {names}.",
        data={"postmortem": postmortem.pk, "meeting_at": meeting_at.isoformat()},
        at=now,
    )
    return postmortem
