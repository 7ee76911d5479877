"""The incident, its append-only timeline, its step checklist and its timers.

Invariants kept by the database as well as the code: unique human numbers per day, an
impact percentage between 0 and 100, a version that only grows, timeline rows that are never
updated or deleted (a trigger on PostgreSQL; model guards everywhere).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from nexusops.common.models import ChecklistEntry

from .catalog import Service, Severity

TITLE_MAX = 200


class Status(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    MONITORING = "monitoring", "Monitoring"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED)


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    SLACK = "slack", "Slack"
    MATTERMOST = "mattermost", "Mattermost"
    TEAMS = "teams", "Microsoft Teams"
    PAGERDUTY = "pagerduty", "PagerDuty"
    ALERT = "alert", "Alert"
    SYSTEM = "system", "System"


class SeverityRankField(models.PositiveSmallIntegerField):
    """A copy of the incident's ``severity.rank``, taken whenever the row is written (create,
    ``save()``, ``bulk_create``), so the list's severity order is an index on the incident
    (``incident_severity_rank_order``) rather than a sort of every row joined to its severity.

    ``QuerySet.update(severity=...)`` does not pass here: set ``severity_rank`` with it. When a
    manager changes a severity's rank, ``services.severity_ranks_sync`` copies it again.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> int:
        rank = model_instance.severity.rank  # type: ignore[attr-defined]
        setattr(model_instance, self.attname, rank)
        return rank


class IncidentDaySequence(models.Model):
    """The last number handed out per UTC day; bumped atomically by an upsert."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Incident(models.Model):
    # Not columns: set for display by selectors (the list and the command page).
    sla_words: str

    number = models.CharField(max_length=20, unique=True, editable=False)
    day = models.DateField(editable=False)
    seq = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=TITLE_MAX)
    summary = models.TextField(blank=True)
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents")
    severity_rank = SeverityRankField(default=0, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TRIGGERED)
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")
    impact_users = models.PositiveIntegerField(
        null=True, blank=True, help_text="Estimated number of users affected."
    )
    impact_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Estimated share of users affected, 0-100.",
    )
    impact_description = models.TextField(blank=True)
    data_breach = models.BooleanField(default=False)
    major_customer_impact = models.BooleanField(default=False)
    source = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commanded_incidents",
    )
    responders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="responded_incidents"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="declared_incidents",
    )
    detected_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    investigating_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    monitoring_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_update_at = models.DateTimeField(null=True, blank=True)
    # Denormalised SLA state, kept by the services in the same transaction, so the list of
    # 100,000 incidents sorts and filters on it without joining timers.
    sla_next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_next_kind = models.CharField(max_length=32, blank=True)
    sla_breached = models.BooleanField(default=False)
    # Where the incident lives in other systems (filled by the communications outbox).
    slack_channel_id = models.CharField(max_length=32, blank=True)
    slack_channel_name = models.CharField(max_length=80, blank=True)
    slack_summary_ts = models.CharField(max_length=32, blank=True)
    pagerduty_incident_id = models.CharField(max_length=32, blank=True)
    statuspage_incident_id = models.CharField(max_length=40, blank=True)
    version = models.PositiveIntegerField(default=1)
    last_event_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        permissions = [
            ("declare_incident", "Can declare an incident"),
            ("acknowledge_incident", "Can acknowledge an incident"),
            ("drive_incident", "Can drive an incident (transitions, assignment, edits)"),
            ("add_note", "Can add notes to an incident timeline"),
            ("view_internal", "Can see internal notes and controls"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["day", "seq"], name="incident_unique_day_seq"),
            models.CheckConstraint(
                condition=models.Q(impact_percent__isnull=True)
                | models.Q(impact_percent__gte=0, impact_percent__lte=100),
                name="incident_impact_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="incident_version_positive"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="incident_title_not_empty"),
        ]
        indexes = [
            models.Index(fields=["status", "-detected_at"], name="incident_status_detected"),
            models.Index(fields=["severity", "-detected_at"], name="incident_severity_detected"),
            # Reports aggregate over a detection-date range across every status and severity;
            # the list's oldest-first order (selectors.SORTS["oldest"]) reads it in order.
            models.Index(fields=["detected_at", "id"], name="incident_detected_at_id"),
            # The list sorted by next SLA deadline, all or of one severity, read in index
            # order from its keyset cursor (selectors.SORTS["sla"]).
            models.Index(
                fields=["sla_next_due_at", "-detected_at", "-id"], name="incident_sla_order"
            ),
            models.Index(
                fields=["severity", "sla_next_due_at", "-detected_at", "-id"],
                name="incident_severity_sla_order",
            ),
            # The list by severity (selectors.SORTS["severity"]): most severe first, then newest.
            models.Index(
                fields=["severity_rank", "-detected_at", "-id"],
                name="incident_severity_rank_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs) -> None:
        # A write of the severity alone writes its rank too (SeverityRankField).
        fields = kwargs.get("update_fields")
        if fields is not None and "severity" in fields and "severity_rank" not in fields:
            kwargs["update_fields"] = [*fields, "severity_rank"]
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the timeline is append-only: events are never updated")

    def delete(self):
        raise TypeError("the timeline is append-only: events are never deleted")


class TimelineEvent(models.Model):
    """One append-only fact about an incident: who, what, when, from which channel."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Stakeholders"
        INTERNAL = "internal", "Internal"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="Who, as shown; kept if the account is renamed."
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["incident", "-id"], name="timeline_incident_id"),
            # The command page's newest events, in the timeline's order, without a sort of
            # every event of the incident.
            models.Index(
                fields=["incident", "-created_at", "-id"], name="timeline_incident_newest"
            ),
            # The kinds filter: a skip scan per visibility (selectors.timeline_kinds).
            models.Index(fields=["incident", "visibility", "kind"], name="timeline_incident_kinds"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("the timeline is append-only: events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the timeline is append-only: events are never deleted")


class Step(models.TextChoices):
    """The runbook's six steps (2.2)."""

    ACKNOWLEDGE = "acknowledge", "1. Acknowledge"
    ASSESS = "assess", "2. Assess"
    COMMUNICATE = "communicate", "3. Communicate"
    MITIGATE = "mitigate", "4. Mitigate"
    RESOLVE = "resolve", "5. Resolve"
    POSTMORTEM = "postmortem", "6. Post-mortem"


class ChecklistTemplateItem(models.Model):
    """Runbook 2.2's step items, as rows a manager may edit (DESIGN.md rule 8)."""

    key = models.SlugField(max_length=50, unique=True)
    step = models.CharField(max_length=20, choices=Step.choices)
    label = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    automatic = models.BooleanField(
        default=False, help_text="Ticked by the system when it does the thing itself."
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.label


class ChecklistItem(ChecklistEntry):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist")
    key = models.SlugField(max_length=50)
    step = models.CharField(max_length=20, choices=Step.choices)
    automatic = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "key"], name="checklist_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.key}"


class TimerKind(models.TextChoices):
    """The incident's own timers (SLA clocks and monitoring); other apps add kinds of theirs."""

    ACK_DEADLINE = "ack_deadline", "Acknowledge deadline"
    FIRST_UPDATE = "first_update", "First stakeholder update"
    MONITORING_END = "monitoring_end", "End of monitoring"
