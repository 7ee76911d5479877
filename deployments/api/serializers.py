from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from nexusops.common import bounds

from ..models import Deployment


class DeploymentIn(serializers.Serializer):
    """What CI/CD sends. Types are checked here; every rule is in ``deployment_record``."""

    services = serializers.ListField(child=serializers.CharField(max_length=63), min_length=1)
    version = serializers.CharField(max_length=128)
    git_sha = serializers.CharField(max_length=64)
    environment = serializers.CharField(max_length=20, default="production")
    kind = serializers.CharField(max_length=10, default="normal")
    status = serializers.CharField(max_length=12, default="in_progress")
    registry = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    previous_sha = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    pr_url = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    labels = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    reviewers = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    deployer = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    started_at = bounds.BoundedDateTimeField(required=False, allow_null=True, default=None)
    finished_at = bounds.BoundedDateTimeField(required=False, allow_null=True, default=None)
    k8s_deployment = serializers.CharField(max_length=253, required=False, default="",
                                           allow_blank=True)  # fmt: skip
    k8s_revision = bounds.api_count(required=False, allow_null=True, default=None)
    argocd_app = serializers.CharField(max_length=253, required=False, default="", allow_blank=True)
    is_migration = serializers.BooleanField(default=False)
    backup_run = bounds.api_count(required=False, allow_null=True, default=None)
    migration_status_output = serializers.CharField(required=False, default="", allow_blank=True,
                                                    max_length=50_000)  # fmt: skip
    tests_passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    security_scan = serializers.ChoiceField(
        choices=["passed", "failed", ""], required=False, default=""
    )
    migrations_tested = serializers.BooleanField(required=False, allow_null=True, default=None)
    smoke_tests_passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    incident = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    external_id = serializers.CharField(max_length=200, required=False, default="",
                                        allow_blank=True)  # fmt: skip


class ArgoCDIn(serializers.Serializer):
    """The body our ArgoCD notification template sends (docs: deployments/api/views.py)."""

    app = serializers.CharField(max_length=253)
    revision = serializers.CharField(max_length=64)
    phase = serializers.ChoiceField(choices=["Running", "Succeeded", "Failed", "Error"])
    services = serializers.ListField(child=serializers.CharField(max_length=63), required=False,
                                     default=list)  # fmt: skip
    version = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)
    started_at = bounds.BoundedDateTimeField(required=False, allow_null=True, default=None)
    finished_at = bounds.BoundedDateTimeField(required=False, allow_null=True, default=None)
    k8s_revision = bounds.api_count(required=False, allow_null=True, default=None)


class DeploymentOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    checks = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id", "number", "url", "services", "environment", "version", "registry", "git_sha",
            "previous_sha", "pr_url", "kind", "labels", "deployer_name", "reviewers", "status",
            "reported_status", "started_at", "finished_at", "k8s_deployment", "k8s_revision",
            "argocd_app", "is_migration", "backup_run", "rollback_of", "checks",
        ]  # fmt: skip

    def get_checks(self, obj: Deployment) -> list[dict]:
        return [
            {"key": c.key, "label": c.label, "required": c.required, "done": c.done, "note": c.note}
            for c in obj.checks.all()
        ]

    def get_url(self, obj: Deployment) -> str:
        return reverse("deployment-detail", args=[obj.pk])
