"""The command page: one incident with everything its sections render for a reader."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.http import QueryDict

from nexusops.common import clock
from nexusops.common.errors import NotFoundError
from nexusops.engine.models import Timer

from ..models import ChecklistItem, Incident, Service, Severity, Status, Step, TimerKind
from ..services.lifecycle import transitions_available
from ..services.stopped_timers import timer_label
from .timeline import timeline, timeline_kinds
from .visibility import incident_visibility


def incident_get(*, number: str) -> Incident:
    try:
        return (
            Incident.objects.select_related("severity", "commander", "created_by")
            .prefetch_related(
                "services",
                "responders",
                Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order", "id")),
                Prefetch("timers", queryset=Timer.objects.order_by("due_at")),
            )
            .get(number=number.upper())
        )
    except Incident.DoesNotExist:
        raise NotFoundError(f"No incident {number}.") from None


def incident_for_panel(*, number: str) -> Incident:
    """The incident (with its severity) for a panel of the command page that loads itself
    (deliveries, the status page's publish form); 404's ``NotFoundError`` if there is none."""
    incident = Incident.objects.select_related("severity").filter(number=number.upper()).first()
    if incident is None:
        raise NotFoundError(f"No incident {number}.")
    return incident


def next_checklist_item(steps: list[dict]) -> dict | None:
    """The runbook's next open item, in step order then item order, with its step's progress.

    ``steps`` is the command page's grouping (label, items, done, total per step), so the
    glance and the full checklist can never disagree about what is next.
    """
    for step in steps:
        for item in step["items"]:
            if not item.done:
                return {
                    "step": step["label"],
                    "item": item,
                    "done": step["done"],
                    "total": step["total"],
                }
    return None


def pending_timers(incident: Incident) -> list[Timer]:
    return [t for t in incident.timers.all() if t.pending and not t.dead]


def dead_timers(incident: Incident) -> list[Timer]:
    """Timers whose handler kept failing; they wait for a person's Retry."""
    return [t for t in incident.timers.all() if t.dead]


def is_live(incident: Incident) -> bool:
    return incident.status != Status.CLOSED


# --- the command page -------------------------------------------------------------------

TIMELINE_LIMIT = 50  # newest first; older pages by ?before=<id> (keeps the page fast at 5,000)
LATEST_LIMIT = 4  # the glance's latest updates: what fits above the fold at 1400x900
SLA_WORDS: dict[str, str] = {TimerKind.ACK_DEADLINE: "ack", TimerKind.FIRST_UPDATE: "first update"}


def sla_words(incident: Incident) -> str:
    return SLA_WORDS.get(incident.sla_next_kind, incident.sla_next_kind.replace("_", " "))


def commanders() -> QuerySet:
    """Users whose role may drive an incident: the IC choices."""
    return (
        get_user_model()
        .objects.filter(
            Q(is_superuser=True)
            | Q(
                groups__permissions__codename="drive_incident",
                groups__permissions__content_type__app_label="incidents",
            ),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _labelled(timers: list[Timer]) -> list[Timer]:
    for timer in timers:
        timer.label = timer_label(timer)
    return timers


def _steps(incident: Incident) -> list[dict]:
    items = list(incident.checklist.all())
    steps = []
    for value, label in Step.choices:
        mine = [i for i in items if i.step == value]
        steps.append(
            {
                "key": value,
                "label": label,
                "items": mine,
                "done": sum(1 for i in mine if i.done),
                "total": len(mine),
            }
        )
    return steps


def incident_command_context(
    *,
    incident: Incident,
    user: User,
    query: QueryDict,
    sections: Iterable[str] = (),
    errors: dict[str, list[str]] | None = None,
    edit_data=None,  # noqa: ANN001 - a QueryDict
    note_data=None,  # noqa: ANN001 - a QueryDict
) -> dict:
    """Everything the command page (and its htmx sections) renders for ``user``.

    ``query`` is the page's GET: the timeline's ``kind`` filter and ``before`` paging.
    ``errors``, ``edit_data`` and ``note_data`` keep a rejected form's input on the page.
    """
    # The same rule the API's serializer applies (incident_visibility): the page
    # hides the internal sections exactly when the API leaves their fields out.
    internal = incident_visibility(user).internal
    kinds = [k for k in query.getlist("kind") if k]
    before = _int(query.get("before"))
    events_qs = timeline(incident=incident, user=user, kinds=kinds or None, before=before or None)
    events = list(events_qs[: TIMELINE_LIMIT + 1])
    older = events[TIMELINE_LIMIT - 1].pk if len(events) > TIMELINE_LIMIT else None
    events = events[:TIMELINE_LIMIT]
    older_query = urlencode([*(("kind", k) for k in kinds), ("before", older)]) if older else ""
    now = clock.now()
    end = incident.resolved_at or incident.closed_at or now
    incident.sla_words = sla_words(incident)
    perms = {
        name: user.has_perm(f"incidents.{name}")
        for name in ("drive_incident", "acknowledge_incident", "add_note", "declare_incident")
    }
    context = {
        "incident": incident,
        "internal": internal,
        "perms": perms,
        "live": is_live(incident),
        "now": now,
        "elapsed": end - incident.detected_at,
        "elapsed_running": incident.resolved_at is None and incident.closed_at is None,
        "events": events,
        "older_query": older_query,
        "newer": bool(before),
        "kinds": kinds,
        "all_kinds": timeline_kinds(incident=incident, user=user),
        "sections": set(sections),
        "errors": errors or {},
    }
    if internal:
        steps = _steps(incident)
        responders = list(incident.responders.all())
        context.update(
            {
                "transitions": [
                    t
                    for t in transitions_available(incident)
                    if user.has_perm(f"incidents.{t.permission}")
                ],
                "steps": steps,
                "next_item": next_checklist_item(steps),
                # The glance ignores the timeline's kind filter and paging: always the newest,
                # which is the timeline's own first rows unless it is filtered or paged.
                "latest_events": (
                    events[:LATEST_LIMIT]
                    if not kinds and not before
                    else list(timeline(incident=incident, user=user)[:LATEST_LIMIT])
                ),
                "timers": _labelled(pending_timers(incident)),
                "dead_timers": _labelled(dead_timers(incident)),
                "services_selected": [s.slug for s in incident.services.all()],
                "responders": responders,
                "responder_ids": {u.pk for u in responders},
            }
        )
        if perms["drive_incident"]:
            context.update(_drive_context(incident, edit_data))
        context["note_data"] = note_data or {}
    return context


def _drive_context(incident: Incident, edit_data) -> dict:  # noqa: ANN001 - a QueryDict
    """What the assign and edit forms need; ``edit_data`` keeps a rejected input."""
    if edit_data is not None:
        edit = {
            "title": edit_data.get("title", ""),
            "severity": edit_data.get("severity", ""),
            "services": edit_data.getlist("services"),
            "impact_users": edit_data.get("impact_users", ""),
            "impact_percent": edit_data.get("impact_percent", ""),
            "impact_description": edit_data.get("impact_description", ""),
            "data_breach": bool(edit_data.get("data_breach")),
            "major_customer_impact": bool(edit_data.get("major_customer_impact")),
        }
    else:
        edit = {
            "title": incident.title,
            "severity": incident.severity.code,
            "services": [s.slug for s in incident.services.all()],
            "impact_users": "" if incident.impact_users is None else incident.impact_users,
            "impact_percent": "" if incident.impact_percent is None else incident.impact_percent,
            "impact_description": incident.impact_description,
            "data_breach": incident.data_breach,
            "major_customer_impact": incident.major_customer_impact,
        }
    return {
        "edit": edit,
        "commanders": list(commanders()),
        "people": list(get_user_model().objects.filter(is_active=True).order_by("username")),
        "severities": list(Severity.objects.all()),
        "all_services": list(Service.objects.all()),
    }
