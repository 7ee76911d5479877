"""The runbook's reference data: the NEXUS services and the severity levels (runbook 2.1).

Rows, seeded by ``seed_demo`` and editable by a manager (DESIGN.md rule 8).
"""

import datetime as dt

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

slug_validator = RegexValidator(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    "Use lowercase letters, digits and hyphens (a DNS-1123 label), e.g. user-service.",
)


class Service(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        DATASTORE = "datastore", "Datastore"

    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SERVICE)
    owner_team = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True)

    class Meta:
        ordering = ["kind", "slug"]

    def __str__(self) -> str:
        return self.slug


class Severity(models.Model):
    """P0–P3 with the runbook's definition and acknowledgement response time."""

    class Urgency(models.TextChoices):
        # PagerDuty's two urgencies: high notifies by the person's high-urgency rules (phone,
        # at night too); low by their low-urgency rules (typically e-mail or push, no call).
        HIGH = "high", "High: wake the person"
        LOW = "low", "Low: notify without waking"

    code = models.CharField(
        max_length=2, unique=True, validators=[RegexValidator(r"^P[0-9]$", "Use P0 to P9.")]
    )
    rank = models.PositiveSmallIntegerField(unique=True, help_text="0 is the most severe.")
    name = models.CharField(max_length=60)
    definition = models.CharField(max_length=200)
    example = models.CharField(max_length=200, blank=True)
    response_time = models.DurationField(validators=[MinValueValidator(dt.timedelta(minutes=1))])
    first_update_within = models.DurationField(
        null=True,
        blank=True,
        help_text="Initial stakeholder update deadline (runbook 2.2 step 3); empty for none.",
    )
    pagerduty_urgency = models.CharField(
        max_length=4,
        choices=Urgency.choices,
        default=Urgency.HIGH,
        help_text="Urgency of the PagerDuty pages escalation sends for this severity.",
    )

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(response_time__gt=dt.timedelta(0)),
                name="severity_response_time_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(pagerduty_urgency__in=["high", "low"]),
                name="severity_pagerduty_urgency_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
