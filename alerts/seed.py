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
# The same runbook lines for alerts as Prometheus/Alertmanager sends them: no ``metric`` label,
# an ``alertname`` and the sender's ``severity``. They come after the metric rules, and a
# value for a metric the thresholds above judge is left to those (see services/rules.py).
CRIT = ["critical", "page", "error"]
WARN = ["warning", "warn"]
NAMES = {
    "health": "~(?i).*(health.?check|probe.?fail|blackbox|platform.?down|endpoint.?down).*",
    "errors": "~(?i).*(error.?rate|errors?.?high|high.?errors?|5xx).*",
    "latency": "~(?i).*(latency|slow.?requests?|response.?time|request.?duration).*",
    "db_connections": "~(?i).*(too.?many.?connections|connections?.?(high|exhausted|saturat)"
    "|max.?connections|connection.?pool).*",
    "disk": "~(?i).*(disk|filesystem|out.?of.?space|volume.?(full|filling)).*",
    "cpu": "~(?i).*(cpu|load.?high|high.?load|throttl).*",
    "memory": "~(?i).*(memory|oom).*",
}
# slug, name, level, order, match_labels, severity (critical only), on a lower-severity incident
LABEL_RULES = [
    ("am-platform-down", "Platform down (health check failing)", C, 60,
     {"alertname": NAMES["health"], "severity": CRIT}, "P0", AlertRule.OnHigherSeverity.RAISE),
    ("am-error-rate-critical", "Error rate critical", C, 61,
     {"alertname": NAMES["errors"], "severity": CRIT}, "P1", AlertRule.OnHigherSeverity.PROPOSE),
    ("am-latency-critical", "API latency critical", C, 62,
     {"alertname": NAMES["latency"], "severity": CRIT}, "P1", AlertRule.OnHigherSeverity.PROPOSE),
    ("am-db-connections-critical", "Database connections critical", C, 63,
     {"alertname": NAMES["db_connections"], "severity": CRIT}, "P1",
     AlertRule.OnHigherSeverity.PROPOSE),
    ("am-disk-critical", "Disk usage critical", C, 64,
     {"alertname": NAMES["disk"], "severity": CRIT}, "P1", AlertRule.OnHigherSeverity.PROPOSE),
    ("am-critical", "Critical alert (the sender's severity)", C, 90,
     {"severity": CRIT}, "P1", AlertRule.OnHigherSeverity.PROPOSE),
    ("am-error-rate-warning", "Error rate warning", W, 150,
     {"alertname": NAMES["errors"], "severity": WARN}, None, AlertRule.OnHigherSeverity.PROPOSE),
    ("am-latency-warning", "API latency warning", W, 151,
     {"alertname": NAMES["latency"], "severity": WARN}, None, AlertRule.OnHigherSeverity.PROPOSE),
    ("am-cpu-warning", "CPU usage warning", W, 152,
     {"alertname": NAMES["cpu"], "severity": WARN}, None, AlertRule.OnHigherSeverity.PROPOSE),
    ("am-memory-warning", "Memory usage warning", W, 153,
     {"alertname": NAMES["memory"], "severity": WARN}, None, AlertRule.OnHigherSeverity.PROPOSE),
]  # fmt: skip
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
                # Platform down is P0 whatever the incident was opened as (runbook 2.1).
                "on_higher_severity": AlertRule.OnHigherSeverity.RAISE
                if slug == "platform-down"
                else AlertRule.OnHigherSeverity.PROPOSE,
            },
        )
        created += new
    for slug, name, level, order, labels, severity, on_higher in LABEL_RULES:
        _, new = AlertRule.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "level": level,
                "order": order,
                "match_labels": labels,
                "severity": Severity.objects.filter(code=severity).first() if severity else None,
                "on_higher_severity": on_higher,
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
