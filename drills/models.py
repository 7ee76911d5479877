"""Disaster-recovery drills (runbook 4.4: RTO 1 h, RPO 5 min, tested quarterly).

A :class:`DrillPolicy` holds the objectives and the cadence, :class:`DrillTemplateStep` the
procedure (both runbook data, seeded, editable by a manager). A :class:`Drill` is one run of
it: planned for a date, started (its steps copied from the template, each with an owner and a
due moment), its steps completed with evidence, and completed with its measured recovery time
and data-loss window. Its timers are engine ``Timer`` rows (``data["drill"]``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class DrillPolicy(models.Model):
    rto_minutes = models.PositiveIntegerField(default=60, help_text="Recovery time objective.")
    rpo_minutes = models.PositiveIntegerField(default=5, help_text="Recovery point objective.")
    every_months = models.PositiveSmallIntegerField(default=3, help_text="3: quarterly.")
    reminder_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days before a planned drill its reminder goes out."
    )
    notify_email = models.EmailField(
        blank=True, help_text="Extra address told about drills, besides the managers."
    )

    class Meta:
        verbose_name = "DR drill policy"
        verbose_name_plural = "DR drill policy"
        permissions = [("run_drill", "Can start DR drills and complete their steps")]

    def __str__(self) -> str:
        return (
            f"RTO {self.rto_minutes} min, RPO {self.rpo_minutes} min, {self.every_months}-monthly"
        )


class StepMark(models.TextChoices):
    NONE = "", "—"
    RECOVERY_POINT = "recovery_point", "records the recovery point (newest data restored)"
    RECOVERED = "recovered", "marks the service recovered"


class DrillTemplateStep(models.Model):
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=60, help_text="Who does it, e.g. Incident Commander.")
    expected_minutes = models.PositiveSmallIntegerField(default=10)
    marks = models.CharField(max_length=20, choices=StepMark.choices, blank=True, default="")

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Drill(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"

    title = models.CharField(max_length=200, default="Quarterly DR drill")
    scenario = models.CharField(max_length=200, default="Full region failure: restore to staging")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    scheduled_for = models.DateTimeField()
    rto_minutes = models.PositiveIntegerField()
    rpo_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_at = models.DateTimeField(
        null=True, blank=True, help_text="The simulated disaster (T0) recovery is measured from."
    )
    recovery_point_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-scheduled_for"]

    def __str__(self) -> str:
        return f"{self.title} ({self.scheduled_for:%Y-%m-%d})"

    @property
    def recovery_time(self) -> dt.timedelta | None:
        if self.failure_at and self.recovered_at:
            return self.recovered_at - self.failure_at
        return None

    @property
    def data_loss(self) -> dt.timedelta | None:
        if self.failure_at and self.recovery_point_at:
            return max(dt.timedelta(), self.failure_at - self.recovery_point_at)
        return None

    @property
    def rto_met(self) -> bool | None:
        took = self.recovery_time
        return None if took is None else took <= dt.timedelta(minutes=self.rto_minutes)

    @property
    def rpo_met(self) -> bool | None:
        lost = self.data_loss
        return None if lost is None else lost <= dt.timedelta(minutes=self.rpo_minutes)


class DrillStep(models.Model):
    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=60, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expected_minutes = models.PositiveSmallIntegerField(default=10)
    marks = models.CharField(max_length=20, choices=StepMark.choices, blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["drill", "order"], name="drill_step_order_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class DrillEvidence(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        LINK = "link", "Link"
        FILE = "file", "File"

    step = models.ForeignKey(DrillStep, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(blank=True, default=b"", editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.step}"
