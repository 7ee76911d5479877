"""Action items: what a post-mortem commits to, with an owner, a due date and reminders."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from incidents.services.checklist import checklist_tick
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.common.services import actor_name
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue

from .. import messages
from ..models import ActionItem, PostMortem
from .common import EMAIL, lock_item, lock_postmortem, policy, require

ITEM_REMINDER = "action_item_reminder"
ITEM_OVERDUE = "action_item_overdue"


def _moments(due_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """(reminder, overdue): the reminder before the due day's 09:00 UTC; overdue at its end."""
    nine = dt.datetime.combine(due_date, dt.time(9), tzinfo=dt.UTC)
    overdue = dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    return nine - policy().action_item_reminder_before, overdue


def action_item_notify(item: ActionItem, stage: str) -> None:
    incident = item.postmortem.incident
    text = messages.action_item(item, stage=stage)
    if item.owner.email:
        outbox_enqueue(
            target=EMAIL,
            key=f"ai{item.pk}:{stage}:{item.due_date:%Y%m%d}",
            incident=incident,
            payload={"to": [item.owner.email], **text},
        )
    if stage != "assigned":
        outbox_enqueue(
            target="slack.post",
            key=f"{incident.number}:ai{item.pk}:{stage}:{item.due_date:%Y%m%d}",
            incident=incident,
            payload={"text": text["subject"].split("] ", 1)[-1]},
        )


@transaction.atomic
def action_item_create(
    *,
    postmortem: PostMortem | int,
    actor: User | None,
    description: str,
    owner: User | int | None,
    due_date: dt.date | None,
    priority: str = ActionItem.Priority.MEDIUM,
    tracker_url: str = "",
) -> ActionItem:
    require(actor, "edit_postmortem")
    postmortem = lock_postmortem(postmortem)
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = ["Describe what will be done."]
    owner_user = None
    if owner in (None, ""):
        errors["owner"] = ["Every action item needs an owner."]
    else:
        pk = owner.pk if isinstance(owner, User) else owner
        owner_user = get_user_model().objects.filter(pk=pk, is_active=True).first()
        if owner_user is None:
            errors["owner"] = ["No active user with that id."]
    today = clock.now().astimezone(dt.UTC).date()
    if due_date is None:
        errors["due_date"] = ["Give a due date."]
    elif due_date < today:
        errors["due_date"] = [f"The due date {due_date:%Y-%m-%d} is in the past."]
    if priority not in ActionItem.Priority.values:
        errors["priority"] = [f"Use one of {', '.join(ActionItem.Priority.values)}."]
    tracker_url = (tracker_url or "").strip()
    if tracker_url:
        try:
            URLValidator(schemes=["http", "https"])(tracker_url)
        except ValidationError:
            errors["tracker_url"] = ["Enter an http(s) link to the tracker."]
    if errors or owner_user is None or due_date is None:
        raise ApplicationError("The action item was not added.", fields=errors)
    now = clock.now()
    item = ActionItem.objects.create(
        postmortem=postmortem,
        description=description,
        owner=owner_user,
        due_date=due_date,
        priority=priority,
        tracker_url=tracker_url,
        created_by=actor,
        created_at=now,
    )
    reminder, overdue = _moments(due_date)
    if reminder > now:
        Timer.objects.create(kind=ITEM_REMINDER, due_at=reminder, data={"action_item": item.pk})
    Timer.objects.create(kind=ITEM_OVERDUE, due_at=overdue, data={"action_item": item.pk})
    incident = postmortem.incident
    checklist_tick(incident, "identify_action_items", "assign_owners", actor=actor)
    action_item_notify(item, "assigned")
    timeline_append(
        incident=incident,
        kind="action_item_added",
        actor=actor,
        internal=True,
        message=f"Action item for {actor_name(owner_user)}, due {due_date:%Y-%m-%d}: "
        f"{description[:200]}",
        data={"action_item": item.pk},
        at=now,
    )
    return item


@transaction.atomic
def action_item_update(*, item: ActionItem | int, actor: User | None, status: str) -> ActionItem:
    """The owner, or anyone who writes post-mortems, moves an item along."""
    item = lock_item(item)
    if actor is not None and actor.pk != item.owner_id:
        try:
            require(actor, "edit_postmortem")
        except PermissionDeniedError:
            raise PermissionDeniedError("Only its owner or an editor can change it.") from None
    if status not in ActionItem.Status.values:
        raise ApplicationError(
            f"Unknown status {status!r}.", fields={"status": ["Unknown status."]}
        )
    if status == item.status:
        return item
    now = clock.now()
    item.status = status
    item.closed_at = None if item.is_open else now
    item.save(update_fields=["status", "closed_at"])
    if not item.is_open:
        Timer.objects.filter(
            kind__in=(ITEM_REMINDER, ITEM_OVERDUE),
            data__action_item=item.pk,
            fired_at__isnull=True,
            cancelled_at__isnull=True,
        ).update(cancelled_at=now)
    timeline_append(
        incident=item.postmortem.incident,
        kind="action_item_changed",
        actor=actor,
        internal=True,
        message=f"Action item “{item.description[:80]}” is now {item.get_status_display()}.",
        data={"action_item": item.pk, "status": status},
        at=now,
    )
    return item
