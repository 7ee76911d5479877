"""What monitoring sent and how it maps to incidents (runbook section 6).

* ``AlertSource``: one integration (Alertmanager, Datadog, generic JSON) with its own token,
  stored hashed; two hashes are valid while a rotation is in progress.
* ``AlertRule``: runbook 6.2's thresholds as rows a manager edits.
* ``AlertEvent``: one notification as received, written by the ingest request in one INSERT;
  a replayed delivery has the same ``event_key`` and is dropped by the unique constraint.
* ``Alert``: the deduplicated alert, one per source and fingerprint (aggregation key).
* ``AlertGroup``: the alerts of one rule and service; it is what pages, posts and attaches.
* ``AlertProcessingFailure``: a group whose processing keeps failing; its events wait, with
  backoff, and after a few attempts it is dead until a person retries it. Other groups go on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident, Service, Severity


class Level(models.TextChoices):
    CRITICAL = "critical", "Critical (page)"
    WARNING = "warning", "Warning (Slack)"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class AlertSource(models.Model):
    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        DATADOG = "datadog", "Datadog"
        GENERIC = "generic", "Generic JSON"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The public part of the token (``nxa_<prefix>_<secret>``): finds the row in one lookup.
    token_prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    previous_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    max_body_bytes = models.PositiveIntegerField(
        default=1_048_576, help_text="Larger requests are refused with 413."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_body_bytes__gte=1024, max_body_bytes__lte=10_485_760),
                name="alertsource_body_limit_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertRule(models.Model):
    """One line of runbook 6.2. Rules are tried in ``order``; the first that matches wins."""

    class Operator(models.TextChoices):
        GT = "gt", ">"
        GTE = "gte", "≥"
        LT = "lt", "<"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    level = models.CharField(max_length=10, choices=Level.choices)
    order = models.PositiveSmallIntegerField(default=100)
    metric = models.CharField(
        max_length=100, blank=True, help_text="e.g. error_rate_percent; empty matches any."
    )
    match_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text="Label matchers, all of which must hold, as Alertmanager's: "
        '{"alertname": "KubePodCrashLooping"} (equal), "*" (present, any value), '
        '["critical", "page"] (one of), "~(?i)high.*error.*" (regular expression, whole value), '
        '"!staging" (absent or not equal).',
    )
    operator = models.CharField(max_length=3, choices=Operator.choices, default=Operator.GT)
    threshold = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    severity = models.ForeignKey(
        Severity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Incident severity for a critical rule (P1 when empty).",
    )

    class OnHigherSeverity(models.TextChoices):
        RAISE = "raise", "Raise the incident's severity"
        PROPOSE = "propose", "Propose a raise to the IC (timeline note)"

    on_higher_severity = models.CharField(
        max_length=10,
        choices=OnHigherSeverity.choices,
        default=OnHigherSeverity.PROPOSE,
        help_text="When this critical rule's alert attaches to an open incident of a lower "
        "severity.",
    )
    is_default = models.BooleanField(
        default=False, help_text="The route for alerts no other rule matches."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A matcher that cannot be read would fail every alert that reaches this rule.
        import re

        from django.core.exceptions import ValidationError

        if not isinstance(self.match_labels, dict):
            raise ValidationError({"match_labels": "Give an object of label: matcher."})
        for name, wanted in self.match_labels.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if not values or not all(isinstance(v, str) for v in values):
                raise ValidationError({"match_labels": f"{name}: use a string or strings."})
            if isinstance(wanted, str) and wanted.startswith("~"):
                try:
                    re.compile(wanted[1:])
                except re.error as exc:
                    raise ValidationError({"match_labels": f"{name}: {exc}"}) from None

    @property
    def condition(self) -> str:
        metric = self.metric or "any metric"
        if self.threshold is None:
            return metric
        return f"{metric} {self.get_operator_display()} {self.threshold.normalize():f}"


class AlertEvent(models.Model):
    """One notification as received. Never updated except to mark it processed."""

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="events")
    event_key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    at = models.DateTimeField(help_text="When it fired, or when it resolved.")
    data = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    # The group it was routed to; set when processed, or when its group's processing failed
    # (then it waits with that group instead of holding up everyone else's).
    # db_default: the ingest INSERT names its columns and leaves this one out.
    group_key = models.CharField(max_length=140, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_key"], name="alertevent_unique_key")
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="alertevent_pending",
                condition=models.Q(processed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint} {self.status} @ {self.at:%Y-%m-%d %H:%M:%S}"


class AlertGroup(models.Model):
    key = models.CharField(max_length=140, unique=True)
    rule = models.ForeignKey(AlertRule, null=True, on_delete=models.SET_NULL)
    rule_name = models.CharField(max_length=120)
    level = models.CharField(max_length=10, choices=Level.choices)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL)
    service_slug = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    # The status last told to people; notifications happen when it differs from ``status``.
    announced_status = models.CharField(max_length=10, blank=True)
    firing_count = models.PositiveIntegerField(default=0)
    alert_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_groups"
    )
    flapping = models.BooleanField(default=False)
    flap_noticed = models.BooleanField(default=False)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    silenced_until = models.DateTimeField(null=True, blank=True)
    silence_reason = models.CharField(max_length=500, blank=True)
    silenced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen", "-id"]
        permissions = [
            ("acknowledge_alertgroup", "Can acknowledge an alert group"),
            ("silence_alertgroup", "Can silence an alert group"),
        ]
        indexes = [models.Index(fields=["status", "-last_seen"], name="alertgroup_status_seen")]

    def __str__(self) -> str:
        return self.title

    def silenced_at(self, at) -> bool:  # noqa: ANN001 - a datetime
        return self.silenced_until is not None and self.silenced_until > at


class Alert(models.Model):
    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=200)
    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    title = models.CharField(max_length=200)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    value = models.FloatField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    # Recent status changes (ISO times, newest last): flapping is too many in the window.
    flips = models.JSONField(default=list)
    flapping = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "fingerprint"], name="alert_unique_fp")
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.status}]"


class AlertProcessingFailure(models.Model):
    """A group whose processing raised. Its events wait until ``next_attempt_at``; after
    ``ALERTS_GROUP_MAX_ATTEMPTS`` it is dead (``dead_at``) until a person retries it."""

    waiting: int  # not a column: events waiting for it, set by selectors.alert_processing_failures
    key = models.CharField(max_length=140, unique=True, help_text="The alert group's key.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dead_at__isnull=False) | models.Q(next_attempt_at__isnull=False),
                name="alertfailure_dead_or_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({'dead' if self.dead_at else 'retrying'})"

    @property
    def dead(self) -> bool:
        return self.dead_at is not None

    def waiting_events(self) -> int:
        return AlertEvent.objects.filter(processed_at__isnull=True, group_key=self.key).count()


class SlackChannelState(models.Model):
    """Storm bound: one post per second per channel; the rest edit a running summary."""

    channel = models.CharField(max_length=80, unique=True)
    last_post_at = models.DateTimeField(null=True, blank=True)
    posts = models.PositiveIntegerField(default=0)
    anchor_key = models.CharField(max_length=200, blank=True)
    anchor_text = models.TextField(blank=True)
    folded = models.JSONField(default=list)
    folded_total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.channel


class ProcessingLock(models.Model):
    """One row, locked by each processing batch: batches run one at a time."""

    name = models.CharField(max_length=20, unique=True)

    def __str__(self) -> str:
        return self.name
