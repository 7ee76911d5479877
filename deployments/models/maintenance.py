"""Maintenance windows (runbook 7): monthly on the first Sunday, 02:00-04:00 UTC, announced
7 days ahead; emergency ones approved by the CTO or VP Engineering with ~4 hours' notice.

An emergency window names its approver when it is requested; it is approved only when that
person acts, and until then it suppresses nothing (an unapproved window would let anyone who
may schedule maintenance silence paging for a service)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident, Service


class MaintenanceWindow(models.Model):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled (monthly)"
        EMERGENCY = "emergency", "Emergency"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        OVERRAN = "overran", "Overran"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SCHEDULED)
    services = models.ManyToManyField(
        Service, blank=True, related_name="maintenance_windows",
        help_text="Empty: every service.",
    )  # fmt: skip
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    public_note = models.TextField(blank=True, help_text="What the status page says.")
    generated = models.BooleanField(default=False, help_text="Made by the monthly generator.")
    work_open = models.BooleanField(
        default=False, help_text="Work still going on: the window overruns if it is open at end."
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text="Emergency: the CTO or VP Engineering who must approve it.",
    )  # fmt: skip
    # Set only when ``approver`` approves, by the service: never chosen by the requester.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    statuspage_id = models.CharField(max_length=40, blank=True)
    overrun_incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        permissions = [("schedule_maintenance", "Can schedule and complete maintenance windows")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="emergency") | models.Q(approver__isnull=False),
                name="maintenance_emergency_names_approver",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | (
                    models.Q(approved_by=models.F("approver")) & models.Q(approved_at__isnull=False)
                ),
                name="maintenance_approved_by_the_approver",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("created_by")),
                name="maintenance_not_approved_by_requester",
            ),
            models.UniqueConstraint(
                fields=["starts_at"],
                condition=models.Q(generated=True),
                name="maintenance_generated_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.SCHEDULED, self.Status.IN_PROGRESS)

    @property
    def awaiting_approval(self) -> bool:
        return self.kind == self.Kind.EMERGENCY and self.approved_at is None


class MaintenanceEvent(models.Model):
    """One append-only fact about a window: who asked for it, who approved or cancelled it."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    window = models.ForeignKey(MaintenanceWindow, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, default="web")
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.window_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"
