"""Alerts answer the deployments app's questions (the error-rate gate) and read its
maintenance windows."""

import datetime as dt

import pytest

from alerts.hooks import error_rate_probe
from alerts.models import AlertGroup, AlertRule, AlertStatus
from alerts.services.suppression import suppression_reason
from deployments.models import MaintenanceWindow
from deployments.services.gates import ErrorRateSince
from nexusops.engine import events
from tests.factories import ServiceFactory, severities

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)


def test_alerts_answer_the_error_rate_question():
    assert error_rate_probe in events._handlers(ErrorRateSince)


def in_maintenance(service_slug: str, at: dt.datetime) -> str | None:
    return suppression_reason(service_slug, at) or None


def probe(slugs: list[str], since: dt.datetime) -> tuple[bool, str]:
    return error_rate_probe(ErrorRateSince(service_slugs=tuple(slugs), since=since))


def _group(status: str, seen: dt.datetime) -> AlertGroup:
    severities()
    ServiceFactory(slug="user-service")
    rule, _ = AlertRule.objects.get_or_create(
        slug="error-rate-critical",
        defaults={
            "name": "Error rate > 5%",
            "level": "critical",
            "metric": "error_rate_percent",
            "threshold": 5,
        },
    )
    return AlertGroup.objects.create(
        key=f"error-rate-critical:user-service:{status}",
        rule=rule,
        rule_name=rule.name,
        level="critical",
        service_slug="user-service",
        title="Error rate 7% on user-service",
        status=status,
        first_seen=seen,
        last_seen=seen,
        status_changed_at=seen,
    )


def test_error_rate_probe_fails_while_an_error_rate_alert_fires_after_the_deploy():
    since = T0 - dt.timedelta(minutes=10)
    assert probe(["user-service"], since) == (
        True,
        "no error-rate alert firing since the deployment",
    )
    _group(AlertStatus.FIRING, T0)
    ok, note = probe(["user-service"], since)
    assert not ok and "Error rate 7% on user-service" in note
    assert probe(["user-service"], T0 + dt.timedelta(minutes=1))[0] is True


def test_alerts_during_a_maintenance_window_are_downgraded():
    service = ServiceFactory(slug="user-service")
    ServiceFactory(slug="billing-service")
    assert in_maintenance("user-service", T0) is None
    window = MaintenanceWindow.objects.create(
        title="Monthly maintenance",
        starts_at=T0 - dt.timedelta(minutes=30),
        ends_at=T0 + dt.timedelta(minutes=90),
        created_at=T0 - dt.timedelta(days=30),
    )
    window.services.set([service])
    reason = in_maintenance("user-service", T0)
    assert reason and "Monthly maintenance" in reason
    assert in_maintenance("billing-service", T0) is None
    assert in_maintenance("user-service", T0 + dt.timedelta(hours=2)) is None
