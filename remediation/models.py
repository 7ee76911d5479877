"""Runbook knowledge as rows, and the runs of its actions.

A :class:`Scenario` (runbook 2.3, 4, 5) has :class:`ScenarioStep` rows; a step may name an
action (a key of :mod:`remediation.actions`) with default parameters. An incident attaches
scenarios (:class:`IncidentScenario`) and ticks their steps (:class:`StepCheck`). Every run
of an action, on an incident or not, is an :class:`ActionRun`: who asked, who approved, what
the dry run showed, its progress and its whole output.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident, Service


class Scenario(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    section = models.CharField(max_length=20, blank=True, help_text="Runbook section, e.g. 2.3.")
    symptoms = models.TextField(blank=True, help_text="Markdown.")
    notes = models.TextField(blank=True, help_text="Markdown: anything beyond the steps.")
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated words that suggest this scenario when an incident's title "
        "or alert text contains them.",
    )
    services = models.ManyToManyField(Service, blank=True, related_name="scenarios")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "title"]
        permissions = [("attach_scenario", "Can attach a runbook scenario to an incident")]

    def __str__(self) -> str:
        return self.title

    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]


class ScenarioStep(models.Model):
    class Kind(models.TextChoices):
        DIAGNOSIS = "diagnosis", "Diagnosis"
        RESOLUTION = "resolution", "Resolution"
        FOLLOW_UP = "follow_up", "Follow-up"

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(help_text="Markdown.")
    action = models.CharField(
        max_length=60, blank=True, help_text="An action key (see Runbooks › Actions), or empty."
    )
    params = models.JSONField(default=dict, blank=True, help_text="Default action parameters.")

    class Meta:
        ordering = ["scenario", "kind", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="scenario_step_text_set")
        ]

    def __str__(self) -> str:
        return f"{self.scenario.slug} {self.kind} {self.order}"


class IncidentScenario(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="scenarios")
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="+")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField()

    class Meta:
        ordering = ["attached_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "scenario"], name="incident_scenario_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.scenario_id}"


class StepCheck(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(ScenarioStep, on_delete=models.CASCADE, related_name="+")
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "step"], name="step_check_unique")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.step_id}"


class ActionRun(models.Model):
    class State(models.TextChoices):
        PREVIEWING = "previewing", "Preparing dry run"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"
        REFUSED = "refused", "Refused"
        EXPIRED = "expired", "Approval expired"
        REJECTED = "rejected", "Rejected by the dry run"

    ACTIVE = (State.PREVIEWING, State.AWAITING_APPROVAL, State.QUEUED, State.RUNNING)

    action = models.CharField(max_length=60)
    params = models.JSONField(default=dict)
    dangerous = models.BooleanField(default=False)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="action_runs"
    )
    step = models.ForeignKey(
        ScenarioStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    preview = models.TextField(blank=True, help_text="What the dry run says would change.")
    approval_expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to the remediation queue."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker started this run."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A running run's worker renews this while it works; past it, the worker died.",
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pinned = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the dry run showed (object versions, revisions, images): the run does "
        "exactly this or fails.",
    )
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    output = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("run_diagnosis", "Can run read-only diagnosis actions"),
            ("run_remediation", "Can request actions that change systems"),
            ("approve_remediation", "Can approve dangerous actions requested by others"),
            ("run_standalone", "Can run actions outside an incident (backups, restores)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="action_run_progress_percent"
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("requested_by")),
                name="action_run_not_self_decided",
            ),
        ]
        indexes = [models.Index(fields=["incident", "-requested_at"], name="action_run_incident")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def finished(self) -> bool:
        return not self.active
