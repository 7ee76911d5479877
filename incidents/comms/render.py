"""Message builders: pure functions from an incident to what a vendor is sent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from nexusops.common.services import actor_name
from nexusops.integrations.slack.messages import (
    context,
    escape_mrkdwn,
    fields,
    header,
    section,
)

from ..models import Incident

PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
STATUS_EMOJI = {
    "triggered": ":rotating_light:",
    "acknowledged": ":eyes:",
    "investigating": ":mag:",
    "mitigated": ":adhesive_bandage:",
    "resolved": ":white_check_mark:",
    "monitoring": ":chart_with_upwards_trend:",
    "closed": ":lock:",
}


def incident_url(incident: Incident) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("incident-detail", args=[incident.number])


def _commander(incident: Incident) -> str:
    return actor_name(incident.commander, "unassigned")


def _services(incident: Incident) -> str:
    return ", ".join(s.slug for s in incident.services.all()) or "not identified yet"


def slack_topic(incident: Incident) -> str:
    text = (
        f"{incident.severity.code} · {incident.get_status_display()} · IC {_commander(incident)}"
        f" · {incident.title}"
    )
    return escape_mrkdwn(text)[:250]


def slack_purpose(incident: Incident) -> str:
    return escape_mrkdwn(f"{incident.number}: {incident.title}. Console: {incident_url(incident)}")[
        :250
    ]


def slack_summary(incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    """The pinned summary message: edited in place as the incident changes."""
    status = incident.get_status_display()
    text = f"{incident.number} [{incident.severity.code}] {status}: {escape_mrkdwn(incident.title)}"
    blocks = [
        header(f"{incident.number} · {incident.severity.code} · {incident.title}"),
        fields(
            [
                ("Status", status),
                ("Severity", f"{incident.severity.code} ({incident.severity.definition})"),
                ("Incident commander", _commander(incident)),
                ("Services", _services(incident)),
            ]
        ),
    ]
    if incident.summary:
        blocks.append(section(escape_mrkdwn(incident.summary[:2900])))
    flags = [
        label
        for flag, label in (
            ("data_breach", "DATA BREACH"),
            ("major_customer_impact", "major customer impact"),
        )
        if getattr(incident, flag)
    ]
    blocks.append(
        context(
            f"{STATUS_EMOJI.get(incident.status, '')} <{incident_url(incident)}|Open in NexusOps>"
            + (f" · :warning: {' · '.join(flags)}" if flags else "")
        )
    )
    blocks.append(summary_buttons(incident))
    return text, blocks


def summary_buttons(incident: Incident) -> dict[str, Any]:
    """Acknowledge / Resolve / Open in console, handled at /slack/interactivity/."""

    def button(text: str, action_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": text},
            "action_id": action_id,
            "value": incident.number,
            **extra,
        }

    elements = []
    if incident.status == "triggered":
        elements.append(button("Acknowledge", "incident_ack", style="primary"))
    if incident.status in ("investigating", "mitigated"):
        elements.append(button("Resolve", "incident_resolve"))
    elements.append(button("Open in console", "incident_open", url=incident_url(incident)))
    return {"type": "actions", "block_id": f"incident-{incident.number}", "elements": elements}


def slack_event_line(incident: Incident, kind: str, actor: str, message: str) -> str:
    who = escape_mrkdwn(actor) if actor else "NexusOps"
    prefix = {
        "update": ":loudspeaker: Stakeholder update",
        "note": ":memo: Note",
        "sla_breached": ":alarm_clock:",
        "status_changed": ":arrows_counterclockwise:",
        "updated": ":pencil2:",
        "assigned": ":bust_in_silhouette:",
    }.get(kind, "•")
    return f"{prefix} *{who}*: {escape_mrkdwn(message)}"


def slack_announcement(incident: Incident) -> str:
    return (
        f":rotating_light: *{incident.number}* declared, {incident.severity.code}: "
        f"{escape_mrkdwn(incident.title)} · services: {escape_mrkdwn(_services(incident))} · "
        f"<{incident_url(incident)}|console>"
    )


def pagerduty_trigger(incident: Incident) -> dict[str, Any]:
    return {
        "dedup_key": incident.number,
        "summary": f"[{incident.severity.code}] {incident.number}: {incident.title}",
        "severity": PAGERDUTY_SEVERITY.get(incident.severity.code, "error"),
        "source": "nexusops",
        "custom_details": {
            "console": incident_url(incident),
            "services": _services(incident),
            "status": incident.status,
        },
    }
