"""Runbook 6.2's alert rules as rows, and (embedded demo only) three integrations."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from incidents.models import Severity

from .models import AlertRule, AlertSource, Level
from .services.sources import alert_source_create

C, W = Level.CRITICAL, Level.WARNING
# slug, name, level, order, metric, threshold, severity (critical only)
RULES = [
    ("platform-down", "Platform down (health check failing)", C, 10, "health_check", None, "P0"),
    ("error-rate-critical", "Error rate > 5%", C, 20, "error_rate_percent", "5", "P1"),
    ("latency-critical", "API latency > 2s (p95)", C, 30, "latency_p95_seconds", "2", "P1"),
    (
        "db-connections-critical",
        "Database connections > 90%",
        C,
        40,
        "db_connections_percent",
        "90",
        "P1",
    ),  # noqa: E501
    ("disk-critical", "Disk usage > 85%", C, 50, "disk_usage_percent", "85", "P1"),
    ("error-rate-warning", "Error rate > 1%", W, 110, "error_rate_percent", "1", None),
    ("latency-warning", "API latency > 1s (p95)", W, 120, "latency_p95_seconds", "1", None),
    ("cpu-warning", "CPU usage > 70%", W, 130, "cpu_usage_percent", "70", None),
    ("memory-warning", "Memory usage > 80%", W, 140, "memory_usage_percent", "80", None),
]
DEFAULT_RULE = ("unmatched", "Unmatched alert (default route)", W, 1000)

# Embedded demo only: known tokens, so the README's curl examples work on a fresh machine.
DEMO_SOURCES = [
    ("Demo Alertmanager", AlertSource.Kind.ALERTMANAGER, "nxa_demoam_alertmanager-demo-token"),
    ("Demo Datadog", AlertSource.Kind.DATADOG, "nxa_demodd_datadog-demo-token"),
    ("Demo generic", AlertSource.Kind.GENERIC, "nxa_demogen_generic-demo-token"),
]


def seed_rules(say: Callable[[str], None]) -> None:
    created = 0
    for slug, name, level, order, metric, threshold, severity in RULES:
        _, new = AlertRule.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "level": level,
                "order": order,
                "metric": metric,
                "threshold": Decimal(threshold) if threshold else None,
                "severity": Severity.objects.filter(code=severity).first() if severity else None,
            },
        )
        created += new
    slug, name, level, order = DEFAULT_RULE
    _, new = AlertRule.objects.get_or_create(
        slug=slug, defaults={"name": name, "level": level, "order": order, "is_default": True}
    )
    created += new
    say(f"alert rules (runbook 6.2): {created} created, {AlertRule.objects.count()} in all")


def seed_demo_sources(say: Callable[[str], None]) -> None:
    for name, kind, token in DEMO_SOURCES:
        if not AlertSource.objects.filter(name=name).exists():
            alert_source_create(name=name, kind=kind, actor=None, token=token)
        say(f"alert integration {name}: Authorization: Bearer {token}")
