"""The public status page's components, updates and subscribers.

The tables kept the names they had when these models lived in ``incidents`` (``db_table``;
``SeparateDatabaseAndState``, no data moved).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from incidents.models import Incident, Service


class ComponentStatus(models.TextChoices):
    """Atlassian Statuspage's component statuses, worst last."""

    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


class Component(models.Model):
    """What the public status page lists: one per NEXUS service the public sees."""

    service = models.OneToOneField(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="component"
    )
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=30, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    statuspage_id = models.CharField(
        max_length=40,
        blank=True,
        help_text="The component's id on Atlassian Statuspage, if mirrored.",
    )

    class Meta:
        db_table = "incidents_component"
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class PublicUpdate(models.Model):
    """A stakeholder-facing update on the status page. Never carries internal notes."""

    # Not a column: (component name, status, label) rows, set for display by selectors.
    component_rows: list[tuple[str, str, str]]

    class Stage(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="public_updates")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    # The public headline, chosen when publishing: the incident's internal title is never
    # shown to the public, and a later internal edit of it changes nothing public.
    title = models.CharField(max_length=200)
    message = models.TextField()
    component_statuses = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        db_table = "incidents_publicupdate"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.stage} {self.published_at:%Y-%m-%d %H:%M}"


def _token() -> str:
    return secrets.token_urlsafe(32)


class Subscriber(models.Model):
    """Someone who gets public updates by email once they confirm their address."""

    email = models.EmailField(unique=True)
    token = models.CharField(max_length=64, unique=True, default=_token)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "incidents_subscriber"

    def __str__(self) -> str:
        return self.email

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
