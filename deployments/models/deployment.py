"""The deployment log (runbook 1): each change to an environment, its checklist and its links.

A rollback is a deployment too (``kind=rollback``, ``rollback_of`` the one it undid). The
checklist items are copied from :class:`CheckTemplateItem` rows (seeded from runbook 1.1,
editable by a manager) when a deployment is recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from incidents.models import Incident, Service
from nexusops.common.models import ChecklistEntry

sha_validator = RegexValidator(r"^[0-9a-f]{7,40}$", "A git SHA is 7 to 40 hex digits.")


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"


class Kind(models.TextChoices):
    NORMAL = "normal", "Normal"
    HOTFIX = "hotfix", "Hotfix"
    ROLLBACK = "rollback", "Rollback"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


class Phase(models.TextChoices):
    PRE = "pre", "Pre-deployment"
    POST = "post", "Post-deployment"


class DeployIntegration(models.Model):
    """A CI/CD pipeline or ArgoCD instance allowed to record deployments.

    Only the SHA-256 of its token is stored; the token is shown once when it is made.
    """

    class Source(models.TextChoices):
        CI = "ci", "CI/CD pipeline"
        ARGOCD = "argocd", "ArgoCD notifications"

    name = models.CharField(max_length=80, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=8, blank=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_source_display()})"


class CheckTemplateItem(models.Model):
    """One line of runbook 1.1's checklists. ``auto`` names the check that ticks it itself."""

    class Auto(models.TextChoices):
        NONE = "", "Ticked by a person"
        REVIEWED = "reviewed", "A reviewer is recorded"
        TESTS = "tests", "CI reports tests passing"
        SECURITY = "security", "CI reports the security scan passed"
        MIGRATIONS_TESTED = "migrations_tested", "No migration, or CI reports it tested"
        ROLLBACK_PLAN = "rollback_plan", "A previous revision or SHA to roll back to"
        NOTIFIED = "notified", "NexusOps posted the start to the team's Slack channel"
        NOTIFIED_DONE = "notified_done", "NexusOps posted the success to the team's channel"
        WINDOW = "window", "Inside a maintenance window, or a hotfix"
        PODS = "pods", "Pods healthy (Kubernetes)"
        ERROR_RATE = "error_rate", "No firing alerts for the services"
        MIGRATIONS_DONE = "migrations_done", "No migration, or its status output recorded"
        SMOKE = "smoke", "CI reports smoke tests passing"
        MONITOR = "monitor", "30 minutes passed after the deployment"
        LOGGED = "logged", "Recorded in this log"

    key = models.SlugField(max_length=40, unique=True)
    phase = models.CharField(max_length=4, choices=Phase.choices)
    label = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    required = models.BooleanField(
        default=True,
        help_text="Must be ticked before a production deployment is marked succeeded "
        "(a manager may override with a reason).",
    )
    auto = models.CharField(max_length=20, choices=Auto.choices, blank=True, default="")

    class Meta:
        ordering = ["phase", "order", "key"]

    def __str__(self) -> str:
        return self.label


class Deployment(models.Model):
    # Not columns: set for display by selectors.incident_changes (an incident's recent changes).
    linked: bool
    rollback: Deployment | None
    can_roll_back: bool

    services = models.ManyToManyField(Service, related_name="deployments")
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    version = models.CharField(max_length=128, help_text="Image tag, e.g. v3.10.1.")
    registry = models.CharField(max_length=200, blank=True, help_text="e.g. ECR/GCR repository.")
    git_sha = models.CharField(max_length=40, validators=[sha_validator])
    previous_sha = models.CharField(max_length=40, blank=True, validators=[sha_validator])
    pr_url = models.URLField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    labels = models.JSONField(default=list, blank=True)
    deployer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployer_name = models.CharField(max_length=150)
    reviewers = models.JSONField(default=list, blank=True, help_text="Reviewer logins.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reported_status = models.CharField(
        max_length=12, blank=True, help_text="What CI/ArgoCD reported while the gates were open."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    k8s_deployment = models.CharField(max_length=253, blank=True)
    k8s_revision = models.PositiveIntegerField(null=True, blank=True)
    argocd_app = models.CharField(max_length=253, blank=True)
    source = models.CharField(max_length=10, default="web")
    integration = models.ForeignKey(
        DeployIntegration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=200, blank=True)
    ci = models.JSONField(default=dict, blank=True, help_text="What CI reported (tests, scan).")
    # rollback
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rollbacks"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The incident a rollback or hotfix answers.",
    )  # fmt: skip
    rollback_action = models.JSONField(
        default=dict,
        blank=True,
        help_text="The remediation action a rollback runs: action, params.",
    )
    remediation_run = models.ForeignKey(
        "remediation.ActionRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # migrations (runbook 1.2)
    is_migration = models.BooleanField(default=False)
    backup_run = models.ForeignKey(
        "remediation.ActionRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The pre-migration PostgreSQL backup (aws.pg_backup) this migration relies on.",
    )  # fmt: skip
    migration_status_output = models.TextField(blank=True)
    # gates
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.CharField(max_length=500, blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    override_items = models.JSONField(default=list, blank=True)
    postmortem_needed = models.BooleanField(
        default=False, help_text="A hotfix with no incident yet: its post-mortem opens on linking."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-created_at", "-id"]
        permissions = [
            ("record_deployment", "Can record and update deployments"),
            ("override_checklist", "Can mark a deployment succeeded with items unticked"),
            ("rollback_deployment", "Can roll a deployment back"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(started_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="deployment_finish_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="rollback") | models.Q(rollback_of__isnull=False),
                name="deployment_rollback_names_target",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="deployment_external_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["environment", "-started_at"], name="deployment_env")]

    def __str__(self) -> str:
        return f"{self.number} {self.version}"

    @property
    def number(self) -> str:
        return f"DEP-{self.pk}"

    @property
    def short_sha(self) -> str:
        return self.git_sha[:8]

    @property
    def at(self):  # noqa: ANN201 - a datetime
        return self.started_at or self.created_at


class DeploymentCheck(ChecklistEntry):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="checks")
    key = models.SlugField(max_length=40)
    phase = models.CharField(max_length=4, choices=Phase.choices)
    required = models.BooleanField(default=True)
    auto = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["deployment", "phase", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "key"], name="deployment_check_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id} {self.key}"


class DeploymentIncident(models.Model):
    """This deployment caused (or contributed to) that incident: a failed change (DORA)."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="incident_links"
    )
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-linked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "incident"], name="deployment_incident_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id} -> {self.incident_id}"
