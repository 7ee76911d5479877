"""Runbook 1.1's checklists as rows, the monthly maintenance windows, and demo deployments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from nexusops.common import clock

from .models import CheckTemplateItem, DeployIntegration, Deployment, Phase, Status

Auto = CheckTemplateItem.Auto
# (key, phase, label, required, auto)
CHECKLIST = [
    ("code_reviewed", Phase.PRE, "Code reviewed and approved", True, Auto.REVIEWED),
    ("tests_passing", Phase.PRE, "All tests passing (unit, integration, e2e)", True, Auto.TESTS),
    ("security_scan", Phase.PRE, "Security scan passed", True, Auto.SECURITY),
    ("migrations_tested", Phase.PRE, "Database migrations tested in staging", True,
     Auto.MIGRATIONS_TESTED),
    ("rollback_plan", Phase.PRE, "Rollback plan documented", True, Auto.ROLLBACK_PLAN),
    ("stakeholders_notified", Phase.PRE, "Stakeholders notified", True, Auto.NOTIFIED),
    ("maintenance_window", Phase.PRE, "Deploy during maintenance window (if applicable)", False,
     Auto.WINDOW),
    ("pods_healthy", Phase.POST, "Verify application health (kubectl get pods)", True, Auto.PODS),
    ("error_rates", Phase.POST, "Check error rates in Datadog", True, Auto.ERROR_RATE),
    ("migrations_completed", Phase.POST, "Verify database migrations completed", True,
     Auto.MIGRATIONS_DONE),
    ("critical_flows", Phase.POST, "Test critical user flows", True, Auto.SMOKE),
    ("monitor_30", Phase.POST, "Monitor for 30 minutes", False, Auto.MONITOR),
    ("deployment_log", Phase.POST, "Update deployment log", False, Auto.LOGGED),
    ("notify_team", Phase.POST, "Notify team of successful deployment", False, Auto.NOTIFIED_DONE),
]  # fmt: skip
DEMO_CI_TOKEN = "demo-ci-token-change-me"
DEMO_ARGOCD_TOKEN = "demo-argocd-token-change-me"


def seed_checklist(log: Callable[[str], None]) -> None:
    for order, (key, phase, label, required, auto) in enumerate(CHECKLIST):
        CheckTemplateItem.objects.get_or_create(
            key=key,
            defaults={"phase": phase, "label": label, "order": order, "required": required,
                      "auto": auto},
        )  # fmt: skip
    log(f"deployment checklist: {CheckTemplateItem.objects.count()} items")


def seed_windows(log: Callable[[str], None]) -> None:
    from .services import maintenance_generate

    made = maintenance_generate()
    log(f"maintenance windows: {len(made)} generated")


def seed_demo(log: Callable[[str], None]) -> None:
    """Demo integrations (tokens printed) and a few past deployments per service."""
    from incidents.models import Service

    from .services import integration_create

    for name, source, token in (
        ("demo-ci", DeployIntegration.Source.CI, DEMO_CI_TOKEN),
        ("demo-argocd", DeployIntegration.Source.ARGOCD, DEMO_ARGOCD_TOKEN),
    ):
        if not DeployIntegration.objects.filter(name=name).exists():
            integration_create(name=name, source=source, actor=None, token=token)
            log(f"deployment integration {name}: token {token}")
    if Deployment.objects.exists():
        return
    now = clock.now()
    for n, service in enumerate(Service.objects.filter(kind=Service.Kind.SERVICE)[:6]):
        for back in (3, 2, 1):
            at = now - dt.timedelta(days=7 * back, hours=n)
            sha = f"{(n * 7 + back) * 2654435761 % 16**12:012x}"
            d = Deployment.objects.create(
                environment="production", version=f"v1.{10 - back}.0", git_sha=sha,
                deployer_name="ci", status=Status.SUCCEEDED, started_at=at,
                finished_at=at + dt.timedelta(minutes=6), k8s_deployment=service.slug,
                source="seed", created_at=at,
            )  # fmt: skip
            d.services.set([service])
    log(f"demo deployments: {Deployment.objects.count()}")
