"""Publishing a public update on the status page (runbook 2.2 step 3).

A public update is the stakeholder-facing text of an incident. Publishing one sets the
affected components, writes the update and its timeline event, satisfies the first-update
SLA, and puts one fan-out row for the subscribers (a worker writes one row per subscriber)
and one for Atlassian Statuspage, when configured, in the same transaction (DESIGN.md
rules 1-3): a request writes a constant number of rows, whatever the number of subscribers.
Nothing here ever reads an internal note or the incident's internal title: what leaves the
building is the update's own public title and text, its stage and the component statuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.models import User
from django.db import transaction

from incidents.models import OPEN_STATUSES, Channel, Incident, Status
from incidents.services.checklist import checklist_tick
from incidents.services.common import bump, lock, require
from incidents.services.sla import sla_refresh
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine.outbox import outbox_enqueue

from ..models import Component, ComponentStatus, PublicUpdate
from ..senders import (
    STATUSPAGE_SYNC,
    UPDATE_EMAIL_ALL,
    statuspage_enabled,
)

Stage = PublicUpdate.Stage
MESSAGE_MAX = 5_000
TITLE_MAX = 200
# The public title when no component says more (an incident on a service with no component).
TITLE_FALLBACK = "Service disruption"

# Pre-filled in the publish form; {impact} and {services} are filled from public data only.
STAGE_TEMPLATES: dict[str, str] = {
    Stage.INVESTIGATING: (
        "We are investigating reports of {impact} affecting {services}. "
        "Next update within 30 minutes."
    ),
    Stage.IDENTIFIED: (
        "We have identified the cause of {impact} affecting {services} and are working on a "
        "fix. Next update within 30 minutes."
    ),
    Stage.MONITORING: (
        "A fix has been applied and {services} are recovering. We are monitoring the results "
        "and will post again once we are confident the issue is resolved."
    ),
    Stage.RESOLVED: (
        "This incident has been resolved. {services} are operating normally. "
        "Thank you for your patience."
    ),
}
# What a severity means for a visitor, in words (not the internal impact estimate).
IMPACT_WORDS = {
    "P0": "an outage",
    "P1": "errors and slow responses",
    "P2": "problems",
    "P3": "minor issues",
}
# Checklist items (runbook 2.2) a public update of a stage does.
STAGE_TICKS = {
    Stage.INVESTIGATING: ("update_status_page",),
    Stage.IDENTIFIED: ("update_status_page", "status_page_progress"),
    Stage.MONITORING: ("update_status_page", "status_page_progress"),
    Stage.RESOLVED: ("update_status_page", "status_page_resolved"),
}
STATUS_RANK = {value: rank for rank, value in enumerate(ComponentStatus.values)}


def incident_components(incident: Incident) -> list[Component]:
    """The public components of the incident's services, in page order."""
    return list(
        Component.objects.filter(service__incidents=incident).select_related("service").distinct()
    )


def _services_words(components: list[Component]) -> str:
    names = [c.name for c in components]
    if not names:
        return "some of our services"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def stage_templates(
    incident: Incident, components: list[Component] | None = None
) -> dict[str, str]:
    """The default message per stage for this incident (public data only)."""
    if components is None:
        components = incident_components(incident)
    words = {
        "impact": IMPACT_WORDS.get(incident.severity.code, "problems"),
        "services": _services_words(components),
    }
    return {stage: text.format(**words) for stage, text in STAGE_TEMPLATES.items()}


def next_stage(incident: Incident) -> str:
    """The stage the form suggests: the one after the latest published."""
    latest = incident.public_updates.values_list("stage", flat=True).first()
    order = list(Stage.values)
    if latest is None:
        return Stage.INVESTIGATING
    return order[min(order.index(latest) + 1, len(order) - 1)]


def public_title_default(statuses: Mapping[Component, str]) -> str:
    """ "Degraded performance: API" — the worst status among the non-operational components and
    their names, or "" when none is affected. Public data only, never the incident's title."""
    affected = [
        (component, status)
        for component, status in statuses.items()
        if status != ComponentStatus.OPERATIONAL
    ]
    if not affected:
        return ""
    worst = _worst_status(status for _, status in affected)
    names = ", ".join(component.name for component, _ in affected)
    return f"{ComponentStatus(worst).label}: {names}"[:TITLE_MAX]


def _worst_status(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 0))


_UNREAD = object()


def public_title_suggested(
    incident: Incident,
    components: list[Component] | None = None,
    latest: PublicUpdate | None | object = _UNREAD,
) -> str:
    """What the publish form offers: the title already public, else one from the components.

    ``latest`` is the incident's latest update when the caller has read it already."""
    if latest is _UNREAD:
        latest = incident.public_updates.order_by("-published_at", "-id").first()
    if isinstance(latest, PublicUpdate) and latest.title:
        return latest.title
    if components is None:
        components = incident_components(incident)
    return public_title_default({c: c.status for c in components}) or TITLE_FALLBACK


def _clean_title(title: str) -> str:
    text = " ".join((title or "").split())
    if len(text) > TITLE_MAX:
        raise ApplicationError(
            f"The public title is {len(text):,} characters; the limit is {TITLE_MAX}.",
            fields={"title": [f"At most {TITLE_MAX} characters."]},
        )
    return text


def _clean_message(message: str) -> str:
    text = (message or "").strip()
    if not text:
        raise ApplicationError(
            "The update is empty.", fields={"message": ["Write what visitors should know."]}
        )
    if len(text) > MESSAGE_MAX:
        raise ApplicationError(
            f"The update is {len(text):,} characters; the limit is {MESSAGE_MAX:,}.",
            fields={"message": [f"At most {MESSAGE_MAX:,} characters."]},
        )
    return text


def _clean_stage(stage: str) -> str:
    if stage not in Stage.values:
        raise ApplicationError(
            f"Unknown stage {stage!r}.",
            fields={"stage": [f"Choose one of: {', '.join(Stage.values)}."]},
        )
    return str(stage)


def _resolve_statuses(
    statuses: Mapping[int | str, str] | None,
) -> dict[int, tuple[Component, str]]:
    """``{component pk or service slug: status}`` → ``{pk: (component, status)}``.

    All or nothing: one unknown component or status refuses the whole update."""
    if not statuses:
        return {}
    ids: list[int] = []
    slugs: list[str] = []
    for key in statuses:
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            ids.append(int(key))
        else:
            slugs.append(str(key))
    found = Component.objects.select_related("service").filter(pk__in=ids) | (
        Component.objects.select_related("service").filter(service__slug__in=slugs)
    )
    by_id = {c.pk: c for c in found}
    by_slug = {c.service.slug: c for c in by_id.values() if c.service is not None}
    resolved: dict[int, tuple[Component, str]] = {}
    errors: list[str] = []
    for key, value in statuses.items():
        component = (
            by_id.get(int(key))
            if isinstance(key, int) or str(key).isdigit()
            else by_slug.get(str(key))
        )
        status = str(value)
        if component is None:
            errors.append(f"Unknown component {key!r}.")
        elif status not in ComponentStatus.values:
            errors.append(f"{component.name}: unknown status {status!r}.")
        else:
            resolved[component.pk] = (component, status)
    if errors:
        raise ApplicationError(" ".join(errors), fields={"components": errors})
    return resolved


def _still_affected(incident: Incident, components: list[Component]) -> set[int]:
    """Components another open incident still affects (they stay as they are on resolve)."""
    service_ids = [c.service_id for c in components if c.service_id]
    if not service_ids:
        return set()
    busy = set(
        Incident.objects.filter(status__in=OPEN_STATUSES, services__in=service_ids)
        .exclude(pk=incident.pk)
        .values_list("services", flat=True)
    )
    return {c.pk for c in components if c.service_id in busy}


@transaction.atomic
def public_update_publish(
    *,
    incident: Incident | int,
    actor: User | None,
    stage: str,
    message: str,
    component_statuses: Mapping[int | str, str] | None = None,
    channel: str = Channel.WEB,
    title: str = "",
) -> PublicUpdate:
    """Post a status page update for the incident and tell everyone who listens.

    ``title`` is the public headline; left empty it is the one already public, else one made
    from the affected components. The incident's internal title is never used for it."""
    require(actor, "drive_incident")
    stage = _clean_stage(stage)
    text = _clean_message(message)
    public_title = _clean_title(title)
    wanted = _resolve_statuses(component_statuses)
    incident = lock(incident)
    if incident.status == Status.CLOSED:
        raise Conflict(f"{incident.number} is closed; publish before closing it.", code="closed")

    own = incident_components(incident)
    if stage == Stage.RESOLVED:
        # The incident no longer holds its components down; another open incident may.
        busy = _still_affected(incident, own)
        for component in own:
            if component.pk not in busy:
                wanted[component.pk] = (component, ComponentStatus.OPERATIONAL)
    changed: dict[str, str] = {}
    if wanted:
        locked = Component.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        for component in locked:
            status = wanted[component.pk][1]
            if component.status != status:
                component.status = status
                component.save(update_fields=["status"])
            changed[str(component.pk)] = status

    if not public_title:
        chosen = {component: status for component, status in wanted.values()}
        public_title = public_title_default(chosen) or public_title_suggested(incident, own)
    update = PublicUpdate.objects.create(
        incident=incident,
        stage=stage,
        title=public_title,
        message=text,
        component_statuses=changed,
        author=actor,
        published_at=clock.now(),
    )
    names = {str(pk): comp.name for pk, (comp, _) in wanted.items()}
    labels = dict(ComponentStatus.choices)
    summary = "; ".join(f"{names[pk]}: {labels[s].lower()}" for pk, s in changed.items())
    timeline_append(
        incident=incident,
        kind="public_update",
        actor=actor,
        channel=channel,
        message=f"Status page ({Stage(stage).label.lower()}): {public_title} — {text}"
        + (f" [{summary}]" if summary else ""),
        data={
            "public_update": update.pk,
            "stage": stage,
            "title": public_title,
            "components": changed,
        },
    )
    if incident.first_update_at is None:
        incident.first_update_at = update.published_at
        bump(incident, "first_update_at")
        checklist_tick(incident, "initial_update", "update_status_page", actor=actor)
        sla_refresh(incident)
    checklist_tick(incident, *STAGE_TICKS[Stage(stage)], actor=actor)

    outbox_enqueue(
        target=UPDATE_EMAIL_ALL,
        key=f"{incident.number}:pu{update.pk}:subscribers",
        incident=incident,
        payload={"update": update.pk},
    )
    if statuspage_enabled():
        outbox_enqueue(
            target=STATUSPAGE_SYNC,
            key=f"{incident.number}:pu{update.pk}:statuspage",
            incident=incident,
            payload={"update": update.pk},
        )
    return update
