"""Alerts fill the deployments app's hooks: maintenance downgrades and the error-rate gate."""

import datetime as dt

import pytest

from alerts.hooks import error_rate_probe, in_maintenance
from alerts.models import AlertGroup, AlertRule, AlertStatus
from alerts.services.suppression import suppression_providers
from deployments.models import MaintenanceWindow
from deployments.services.gates import error_rate_probes
from tests.factories import ServiceFactory, severities

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)


def test_the_hooks_are_registered():
    assert in_maintenance in suppression_providers
    assert error_rate_probe in error_rate_probes


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
    assert error_rate_probe(["user-service"], since) == (
        True,
        "no error-rate alert firing since the deployment",
    )
    _group(AlertStatus.FIRING, T0)
    ok, note = error_rate_probe(["user-service"], since)
    assert not ok and "Error rate 7% on user-service" in note
    assert error_rate_probe(["user-service"], T0 + dt.timedelta(minutes=1))[0] is True


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
