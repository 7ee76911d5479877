"""Small words about an incident that every message to a vendor uses (no I/O)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from nexusops.common.services import actor_name

from .models import Incident


def incident_url(incident: Incident) -> str:
    """The incident's command page, absolute (``SITE_URL``), for links sent out of the console."""
    return settings.SITE_URL.rstrip("/") + reverse("incident-detail", args=[incident.number])


def incident_commander_name(incident: Incident) -> str:
    return actor_name(incident.commander, "unassigned")


def incident_services_text(incident: Incident) -> str:
    return ", ".join(s.slug for s in incident.services.all()) or "not identified yet"
