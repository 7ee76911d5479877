"""The PagerDuty Events API v2 payload for an incident (a pure function)."""

from __future__ import annotations

from typing import Any

from ..describe import incident_services_text, incident_url
from ..models import Incident

PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}


def pagerduty_trigger(incident: Incident) -> dict[str, Any]:
    return {
        "dedup_key": incident.number,
        "summary": f"[{incident.severity.code}] {incident.number}: {incident.title}",
        "severity": PAGERDUTY_SEVERITY.get(incident.severity.code, "error"),
        "source": "nexusops",
        "custom_details": {
            "console": incident_url(incident),
            "services": incident_services_text(incident),
            "status": incident.status,
        },
    }
