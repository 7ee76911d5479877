"""Communications: the outbox of outbound vendor calls, inbound delivery dedup, and the
public status page's components, updates and subscribers."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from .catalog import Service
from .incident import Incident


class OutboxMessage(models.Model):
    """One outbound call to a vendor (DESIGN.md rule 3).

    Written in the transaction of the change that caused it, dispatched by a task after
    commit, retried with backoff, swept up by a beat relay. ``key`` makes it at-most-once.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead"
        SKIPPED = "skipped", "Skipped"

    key = models.CharField(max_length=200, unique=True)
    target = models.CharField(max_length=60, help_text="Sender name, e.g. slack.post.")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current attempt started (its lease)."
    )
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=models.Q(state__in=["pending", "retrying", "sending"]),
            ),
            models.Index(fields=["incident", "created_at"], name="outbox_incident"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="sent", sent_at__isnull=False) | ~models.Q(state="sent"),
                name="outbox_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} [{self.state}] {self.key}"

    @property
    def open(self) -> bool:
        return self.state in (self.State.PENDING, self.State.SENDING, self.State.RETRYING)


class InboundDelivery(models.Model):
    """A webhook delivery already processed, by the sender's own event id (replays do nothing)."""

    source = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbound_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id}"


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
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class PublicUpdate(models.Model):
    """A stakeholder-facing update on the status page. Never carries internal notes."""

    class Stage(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="public_updates")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    message = models.TextField()
    component_statuses = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
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

    def __str__(self) -> str:
        return self.email

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
