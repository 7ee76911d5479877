"""What is said in chat about an incident, in provider-neutral values (no I/O).

Each provider (``nexusops/integrations/<vendor>/provider.py``) formats these in its own
markup; deciding *what* a summary holds and which buttons it offers is the incident's
business, so it lives here.
"""

from __future__ import annotations

from incidents.describe import incident_commander_name, incident_services_text, incident_url
from incidents.models import Incident
from nexusops.integrations.chat import ChatButton, ChatLine, ChatSummary

FLAGS = (("data_breach", "DATA BREACH"), ("major_customer_impact", "major customer impact"))


def chat_buttons(incident: Incident) -> tuple[ChatButton, ...]:
    """Acknowledge while triggered, Resolve while being worked on, always Open in console."""
    number = incident.number
    buttons = []
    if incident.status == "triggered":
        buttons.append(ChatButton("acknowledge", "Acknowledge", number, style="primary"))
    if incident.status in ("investigating", "mitigated"):
        buttons.append(ChatButton("resolve", "Resolve", number))
    buttons.append(ChatButton("open", "Open in console", number, url=incident_url(incident)))
    return tuple(buttons)


def chat_summary(incident: Incident) -> ChatSummary:
    """The pinned summary: edited in place as the incident changes."""
    return ChatSummary(
        number=incident.number,
        title=incident.title,
        severity=incident.severity.code,
        severity_definition=incident.severity.definition,
        status=incident.status,
        status_label=incident.get_status_display(),
        commander=incident_commander_name(incident),
        services=incident_services_text(incident),
        summary=incident.summary or "",
        flags=tuple(label for flag, label in FLAGS if getattr(incident, flag)),
        url=incident_url(incident),
        buttons=chat_buttons(incident),
    )


def chat_line(kind: str, actor: str, message: str) -> ChatLine:
    """One timeline fact as mirrored into the channel."""
    return ChatLine(kind=kind, actor=actor, message=message)
