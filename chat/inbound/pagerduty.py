"""PagerDuty v3 webhook events applied to console incidents, through the services.

``channel=Channel.PAGERDUTY`` on everything written here, so the fan-out never echoes the
change back to PagerDuty. An event that is our own change coming back (PagerDuty resolved
because we resolved) finds the console incident already there and does nothing.

To handle one more event type, add it to ``HANDLED`` and a branch in
:func:`pagerduty_event_apply`.
"""

from __future__ import annotations

import logging

from incidents.models import Channel, Incident, Status
from incidents.services import TRANSITIONS, incident_note_add, incident_transition
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.integrations.pagerduty.webhooks import WebhookEvent

from .people import user_for_pagerduty

logger = logging.getLogger(__name__)

HANDLED = ("incident.acknowledged", "incident.resolved", "incident.reassigned")


def incident_for_event(event: WebhookEvent) -> Incident | None:
    """Our incident: PagerDuty's ``incident_key`` is the dedup key we trigger with (our
    number); else the PagerDuty incident id we may have recorded."""
    key = event.data.get("incident_key")
    if isinstance(key, str) and key:
        found = Incident.objects.filter(number=key.strip().upper()).first()
        if found is not None:
            return found
    pd_id = event.incident_id
    if isinstance(pd_id, str) and pd_id:
        return Incident.objects.filter(pagerduty_incident_id=pd_id).first()
    return None


def event_params(event: WebhookEvent) -> dict:
    """What the task needs, as JSON."""
    agent = event.agent or {}
    assignees = event.data.get("assignees")
    return {
        "event_type": event.event_type,
        "agent_id": str(agent.get("id") or ""),
        "agent_name": str(agent.get("summary") or agent.get("name") or ""),
        "assignees": [
            {"id": str(a.get("id") or ""), "name": str(a.get("summary") or a.get("id") or "")}
            for a in (assignees if isinstance(assignees, list) else [])
            if isinstance(a, dict)
        ],
    }


def _who(name: str) -> str:
    return name or "someone"


def pagerduty_event_apply(
    *,
    incident_id: int,
    event_type: str,
    agent_id: str = "",
    agent_name: str = "",
    assignees: list[dict] | None = None,
) -> str:
    """Apply one event; returns what was done (for the log). Safe to run twice: a second run
    finds the incident already moved and does nothing."""
    incident = Incident.objects.get(pk=incident_id)
    actor = user_for_pagerduty(agent_id)
    try:
        if event_type == "incident.acknowledged":
            if incident.status != Status.TRIGGERED:
                return f"{incident.number} is already {incident.status}"
            incident_transition(
                incident=incident, action="acknowledge", actor=actor, channel=Channel.PAGERDUTY
            )
            return f"{incident.number} acknowledged"
        if event_type == "incident.resolved":
            if incident.status in TRANSITIONS["resolve"].sources:
                incident_transition(
                    incident=incident, action="resolve", actor=actor, channel=Channel.PAGERDUTY
                )
                return f"{incident.number} resolved"
            if incident.status in (Status.TRIGGERED, Status.ACKNOWLEDGED):
                incident_note_add(
                    incident=incident,
                    actor=None,
                    internal=True,
                    channel=Channel.PAGERDUTY,
                    message=f"Resolved in PagerDuty by {_who(agent_name)}; resolve here when "
                    "verified.",
                )
                return f"{incident.number} noted as resolved in PagerDuty"
            return f"{incident.number} is already {incident.status}"
        if event_type == "incident.reassigned":
            names = ", ".join(_assignee(a) for a in assignees or []) or "nobody"
            incident_note_add(
                incident=incident,
                actor=None,
                internal=True,
                channel=Channel.PAGERDUTY,
                message=f"Reassigned in PagerDuty to {names} (by {_who(agent_name)}).",
            )
            return f"{incident.number} reassignment noted"
    except Conflict as exc:
        # Moved by someone else between our read and the lock: nothing left to do.
        return f"{incident.number}: {exc.message}"
    except ApplicationError as exc:
        logger.warning("PagerDuty %s on %s refused: %s", event_type, incident.number, exc.message)
        return f"{incident.number}: {exc.message}"
    return f"{event_type} ignored"


def _assignee(assignee: dict) -> str:
    user = user_for_pagerduty(assignee.get("id", ""))
    name = assignee.get("name") or assignee.get("id") or "?"
    return f"{name} ({user.get_username()})" if user is not None else name
