"""Weekly on-call rotations, their overrides, and the on-call pay rules (runbook 8).

Shifts are computed from a rotation's start, member order and handoff weekday/time/zone,
never stored one by one; an override replaces whoever the rotation says for a window.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from incidents.models.people import validate_time_zone


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Rotation(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    handoff_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.FRIDAY
    )
    handoff_time = models.TimeField(default=dt.time(9, 0))
    start_date = models.DateField(help_text="The first shift starts this day at the handoff time.")
    reminder_before = models.DurationField(
        default=dt.timedelta(hours=24), help_text="Remind the next person this long before."
    )
    slack_channel = models.CharField(
        max_length=80, blank=True, help_text="Where handoff notes are posted (channel id)."
    )
    pagerduty_schedule_id = models.CharField(
        max_length=20,
        blank=True,
        help_text="The PagerDuty schedule this rotation was imported from (re-import updates it).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "incidents_rotation"  # kept from before the move (issue 17)
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handoff_weekday__gte=0, handoff_weekday__lte=6),
                name="rotation_weekday_range",
            ),
            models.UniqueConstraint(
                fields=["pagerduty_schedule_id"],
                condition=~models.Q(pagerduty_schedule_id=""),
                name="rotation_one_per_pagerduty_schedule",
            ),
        ]
        permissions = [
            ("manage_oncall", "Can change rotations and approve overrides"),
            ("view_pay_report", "Can see the on-call pay report"),
        ]

    def __str__(self) -> str:
        return self.name


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rotation_memberships"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "incidents_rotationmember"  # kept from before the move (issue 17)
        ordering = ["rotation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "position"], name="rotation_member_pos"),
            models.UniqueConstraint(fields=["rotation", "user"], name="rotation_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rotation} #{self.position} {self.user}"


class RotationOverride(models.Model):
    """Someone covers a window instead of whoever the rotation names (a swap is two)."""

    class Kind(models.TextChoices):
        COVER = "cover", "Cover"
        SWAP = "swap", "Swap"

    class State(models.TextChoices):
        REQUESTED = "requested", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oncall_overrides"
    )
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who the rotation had on call (for the record).",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COVER)
    reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Only an approved override changes who is on call. It is approved at once when the person
    # taking the shift asked for it; otherwise a second person decides (oncall.services).
    state = models.CharField(max_length=10, choices=State.choices, default=State.APPROVED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "incidents_rotationoverride"  # kept from before the move (issue 17)
        ordering = ["rotation", "starts_at"]
        indexes = [
            models.Index(fields=["rotation", "starts_at"], name="override_rotation_start"),
            models.Index(
                fields=["rotation", "starts_at"],
                condition=models.Q(state="requested"),
                name="override_awaiting_approval",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="override_ends_after_start",
            ),
        ]
        permissions = [("request_override", "Can ask for an on-call override")]

    def __str__(self) -> str:
        return f"{self.user} covers {self.rotation} {self.starts_at:%Y-%m-%d %H:%M}"


class PayPolicy(models.Model):
    """Runbook 8.3's figures as one editable row (a manager changes them in the admin)."""

    name = models.CharField(max_length=60, unique=True, default="default")
    weekly_stipend = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("500.00"), validators=[MinValueValidator(0)]
    )
    incident_multiplier = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.50"), validators=[MinValueValidator(0)]
    )
    night_starts = models.TimeField(default=dt.time(22, 0))
    night_ends = models.TimeField(default=dt.time(6, 0))
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        db_table = "incidents_paypolicy"  # kept from before the move (issue 17)
        verbose_name_plural = "pay policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_stipend__gte=0, incident_multiplier__gte=0),
                name="pay_policy_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.weekly_stipend}/week, x{self.incident_multiplier}"
