"""Who is pulled into an incident, when, and on what condition (runbook 2.4), as rows.

A policy has ordered tiers. A tier is due ``delay`` after detection for the severities it
lists (all when none), and at once when a flag it watches is set. Its target is the person
on call, everyone with an organisational role, or one named user.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from incidents.models import Profile, Severity

from .rotation import Rotation


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(
        default=True, help_text="The one active policy applies to every incident."
    )
    repage_on_ack_breach = models.BooleanField(
        default=True,
        help_text="Not acknowledged within the severity's response time: page the on-call "
        "engineer again, then the next tier after the grace period.",
    )
    rotation = models.ForeignKey(
        Rotation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose on-call engineer the on-call tiers page; empty: the first active one.",
    )
    ack_breach_grace = models.DurationField(
        default=dt.timedelta(minutes=5),
        help_text="After a re-page, how long before the next tier is pulled in.",
    )

    class Meta:
        db_table = "incidents_escalationpolicy"  # kept from before the move (issue 17)
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["active"],
                condition=models.Q(active=True),
                name="escalation_one_active_policy",
            ),
            models.CheckConstraint(
                condition=models.Q(ack_breach_grace__gte=dt.timedelta(0)),
                name="escalation_grace_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationTier(models.Model):
    class Target(models.TextChoices):
        ON_CALL = "on_call", "Whoever is on call"
        ORG_ROLE = "org_role", "Everyone with an organisational role"
        USER = "user", "A named person"

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="tiers")
    order = models.PositiveSmallIntegerField(help_text="1 is the first tier.")
    name = models.CharField(max_length=100)
    target = models.CharField(max_length=20, choices=Target.choices)
    org_role = models.CharField(max_length=32, choices=Profile.OrgRole.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delay = models.DurationField(
        null=True,
        blank=True,
        help_text="Due this long after detection if still unresolved; empty: only on a flag.",
    )
    severities = models.ManyToManyField(
        Severity, blank=True, help_text="The delay applies to these severities (none: all)."
    )
    on_data_breach = models.BooleanField(default=False, help_text="At once when data_breach.")
    on_major_customer_impact = models.BooleanField(
        default=False, help_text="At once when major_customer_impact."
    )

    class Meta:
        db_table = "incidents_escalationtier"  # kept from before the move (issue 17)
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="escalation_tier_order"),
            models.CheckConstraint(
                condition=models.Q(delay__isnull=True) | models.Q(delay__gte=dt.timedelta(0)),
                name="escalation_tier_delay_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(target="on_call")
                | (models.Q(target="org_role") & ~models.Q(org_role=""))
                | (models.Q(target="user") & models.Q(user__isnull=False)),
                name="escalation_tier_has_target",
            ),
            models.CheckConstraint(
                condition=models.Q(delay__isnull=False)
                | models.Q(on_data_breach=True)
                | models.Q(on_major_customer_impact=True),
                name="escalation_tier_has_condition",
            ),
        ]

    def __str__(self) -> str:
        return f"tier {self.order}: {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.delay is not None and self.delay < dt.timedelta(0):
            errors["delay"] = "The delay cannot be negative."
        if self.target == self.Target.ORG_ROLE and not self.org_role:
            errors["org_role"] = "Choose the organisational role this tier pages."
        if self.target == self.Target.USER and self.user_id is None:
            errors["user"] = "Choose the person this tier pages."
        if self.delay is None and not (self.on_data_breach or self.on_major_customer_impact):
            errors["delay"] = "Give a delay, or tick a flag that pulls this tier in at once."
        if errors:
            raise ValidationError(errors)

    def target_label(self) -> str:
        if self.target == self.Target.ORG_ROLE:
            return Profile.OrgRole(self.org_role).label
        if self.target == self.Target.USER and self.user_id:
            return str(self.user)
        return "On-call engineer"
