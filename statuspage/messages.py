"""Message builders for the status page: pure functions from public rows to what is sent.

They read only a :class:`PublicUpdate` (its public title, text, stage and component statuses),
the incident's number, and the components' names: never the timeline, never a note, so nothing
internal can leak into an email or onto Atlassian Statuspage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from .models import Component, ComponentStatus, PublicUpdate, Subscriber

SITE_NAME = "NEXUS status"


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _component_lines(update: PublicUpdate, components: dict[str, Component]) -> list[str]:
    labels = dict(ComponentStatus.choices)
    lines = []
    for pk, status in (update.component_statuses or {}).items():
        component = components.get(str(pk))
        if component is not None:
            lines.append(f"  - {component.name}: {labels.get(status, status)}")
    return lines


def update_components(update: PublicUpdate) -> dict[str, Component]:
    ids = [int(pk) for pk in (update.component_statuses or {})]
    return {str(c.pk): c for c in Component.objects.filter(pk__in=ids)}


def public_update_email(
    update: PublicUpdate, subscriber: Subscriber, components: dict[str, Component]
) -> Email:
    incident = update.incident
    stage = PublicUpdate.Stage(update.stage).label
    lines = [
        update.title,
        f"Status: {stage}",
        "",
        update.message,
        "",
    ]
    component_lines = _component_lines(update, components)
    if component_lines:
        lines += ["Affected components:", *component_lines, ""]
    lines += [
        f"Follow this incident: {absolute(reverse('status-incident', args=[incident.number]))}",
        f"Status page: {absolute(reverse('status-page'))}",
        "",
        "You get this email because you subscribed to NEXUS status updates.",
        f"Unsubscribe: {absolute(reverse('status-unsubscribe', args=[subscriber.token]))}",
    ]
    return Email(f"[{SITE_NAME}] {stage}: {update.title}", "\n".join(lines))


def confirmation_email(subscriber: Subscriber) -> Email:
    link = absolute(reverse("status-subscribe-confirm", args=[subscriber.token]))
    body = "\n".join(
        [
            "Someone (hopefully you) asked to receive NEXUS status updates at this address.",
            "",
            f"Confirm your subscription: {link}",
            "",
            "If it was not you, ignore this email: nothing is sent until you confirm.",
        ]
    )
    return Email(f"[{SITE_NAME}] Confirm your subscription", body)


def statuspage_incident(update: PublicUpdate, components: dict[str, Component]) -> dict[str, Any]:
    """What Atlassian Statuspage is sent: name, status, body, statuses by Statuspage id."""
    statuses = {
        components[str(pk)].statuspage_id: status
        for pk, status in (update.component_statuses or {}).items()
        if str(pk) in components and components[str(pk)].statuspage_id
    }
    return {
        "name": update.title,
        "status": update.stage,
        "body": update.message,
        "component_statuses": statuses,
    }
