"""Real Alertmanager alerts (no custom ``metric`` label) route by the labels they carry,
attach to their service's open incident, and raise or propose a higher severity."""

from __future__ import annotations

import pytest

from alerts.models import AlertGroup, AlertRule
from alerts.services.rules import label_matches, service_of
from incidents.models import Incident, TimelineEvent
from tests.factories import incident

from .conftest import T0
from .payloads import iso

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def k8s_alert(
    name: str,
    *,
    severity: str = "critical",
    deployment: str = "api-gateway",
    service: str | None = "api-gateway",
    status: str = "firing",
) -> dict:
    """An alert as kube-prometheus rules label it: no ``metric``, no value annotation."""
    labels = {
        "alertname": name,
        "severity": severity,
        "namespace": "production",
        "job": f"production/{deployment}",
        "deployment": deployment,
        "pod": f"{deployment}-7f9c6d5b8-x2x9q",
        "container": deployment,
        "instance": "10.0.3.7:8080",
        "prometheus": "monitoring/k8s",
    }
    if service:
        labels["service"] = service
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": f"{name} on {deployment}",
            "description": "5xx responses above 5% for 5 minutes.",
            "runbook_url": "https://runbooks.example.com/6.2",
        },
        "startsAt": iso(T0),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.monitoring:9090/graph?g0.expr=sum%28rate%28"
        "http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29%29&g0.tab=1",
        "fingerprint": f"{abs(hash((name, deployment))) % 16**16:016x}",
    }


def webhook(*alerts: dict) -> dict:
    """Alertmanager's webhook body, version 4, as documented (every field, used or not)."""
    first = alerts[0]["labels"]
    return {
        "version": "4",
        "groupKey": '{}/{severity="critical"}:{alertname="' + first["alertname"] + '"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "nexusops",
        "groupLabels": {"alertname": first["alertname"]},
        "commonLabels": {"alertname": first["alertname"], "namespace": "production"},
        "commonAnnotations": {"runbook_url": "https://runbooks.example.com/6.2"},
        "externalURL": "http://alertmanager.monitoring:9093",
        "alerts": list(alerts),
    }


def test_a_critical_alert_attaches_to_the_open_incident_of_its_service(send):
    open_one = incident("Checkout failing", severity_code="P1", services=("api-gateway",))

    send("alertmanager", webhook(k8s_alert("HighErrorRate")))

    group = AlertGroup.objects.get()
    assert group.rule.slug == "am-error-rate-critical" and group.level == "critical"
    assert group.service_slug == "api-gateway" and group.incident == open_one
    assert Incident.objects.count() == 1
    assert TimelineEvent.objects.filter(
        incident=open_one, message__startswith="Alert group attached"
    ).exists()


def test_the_service_is_found_from_deployment_or_pod_without_a_service_label(send):
    open_one = incident("Checkout failing", services=("api-gateway",))
    send("alertmanager", webhook(k8s_alert("KubeContainerWaiting", service=None)))
    group = AlertGroup.objects.get()
    assert group.rule.slug == "am-critical" and group.service_slug == "api-gateway"
    assert group.incident == open_one


def test_without_an_open_incident_a_critical_alert_declares_one_not_a_warning(send):
    send("alertmanager", webhook(k8s_alert("HighRequestLatency")))
    group = AlertGroup.objects.get()
    assert group.rule.slug == "am-latency-critical"
    assert group.incident is not None and group.incident.severity.code == "P1"
    assert list(group.incident.services.values_list("slug", flat=True)) == ["api-gateway"]


def test_a_more_severe_alert_proposes_a_raise_when_its_rule_says_propose(send):
    open_one = incident("Slow dashboards", severity_code="P2", services=("api-gateway",))

    send("alertmanager", webhook(k8s_alert("HighErrorRate")))

    open_one.refresh_from_db()
    assert open_one.severity.code == "P2"
    [note] = TimelineEvent.objects.filter(incident=open_one, message__contains="proposes raising")
    assert "P2 → P1" in note.message and "the IC decides" in note.message
    assert note.channel == "alert"


def test_a_more_severe_alert_raises_the_severity_when_its_rule_says_raise(send):
    open_one = incident("Slow dashboards", severity_code="P2", services=("api-gateway",))

    send("alertmanager", webhook(k8s_alert("BlackboxProbeFailed")))

    open_one.refresh_from_db()
    assert open_one.severity.code == "P0"
    assert TimelineEvent.objects.filter(
        incident=open_one, kind="updated", message__contains="Severity changed P2 → P0"
    ).exists()
    [note] = TimelineEvent.objects.filter(incident=open_one, message__startswith="Severity raised")
    assert "“Platform down (health check failing)”" in note.message


def test_a_rule_set_to_raise_raises_and_one_less_severe_changes_nothing(send):
    AlertRule.objects.filter(slug="am-error-rate-critical").update(
        on_higher_severity=AlertRule.OnHigherSeverity.RAISE
    )
    p2 = incident("Slow dashboards", severity_code="P2", services=("api-gateway",))
    p0 = incident("Everything down", severity_code="P0", services=("user-service",))
    send("alertmanager", webhook(k8s_alert("HighErrorRate")))
    send(
        "alertmanager",
        webhook(k8s_alert("HighErrorRate", deployment="user-service", service="user-service")),
    )
    p2.refresh_from_db()
    p0.refresh_from_db()
    assert p2.severity.code == "P1" and p0.severity.code == "P0"
    assert not TimelineEvent.objects.filter(incident=p0, message__contains="Severity").exists()


def test_a_warning_from_alertmanager_stays_a_warning(send):
    send("alertmanager", webhook(k8s_alert("NodeHighCPULoad", severity="warning")))
    group = AlertGroup.objects.get()
    assert group.rule.slug == "am-cpu-warning" and group.incident is None


def test_a_value_the_thresholds_judge_is_not_overruled_by_the_senders_severity(send):
    body = {
        "dedup_key": "err",
        "title": "errors",
        "metric": "error_rate_percent",
        "value": 0.5,
        "labels": {"severity": "critical", "service": "user-service"},
    }
    send("generic", body)
    assert AlertGroup.objects.get().rule.slug == "unmatched"


@pytest.mark.parametrize(
    "wanted, value, matches",
    [
        ("x", "x", True),
        ("x", "y", False),
        ("x", None, False),
        ("*", "", True),
        ("*", None, False),
        (["critical", "page"], "page", True),
        (["critical", "page"], "warning", False),
        ("~(?i)high.*rate", "HighErrorRate", True),
        ("~high", "HighErrorRate", False),  # the whole value, as Alertmanager's =~
        ("!staging", "production", True),
        ("!staging", None, True),
        ("!staging", "staging", False),
    ],
)
def test_label_matchers(wanted, value, matches):
    assert label_matches(wanted, value) is matches


@pytest.mark.parametrize(
    "labels, expected",
    [
        ({"service": "api-gateway", "job": "x"}, "api-gateway"),
        ({"namespace": "production", "pod": "user-service-6d4b9c7f5d-abcde"}, "user-service"),
        ({"job": "production/auth-service"}, "auth-service"),
        ({"statefulset": "billing-service", "pod": "billing-service-0"}, "billing-service"),
        ({"job": "node-exporter", "instance": "10.0.0.1:9100"}, "node-exporter"),
        ({"namespace": "production"}, ""),
    ],
)
def test_service_is_read_from_the_labels_real_payloads_carry(labels, expected):
    known = {"api-gateway", "user-service", "auth-service", "billing-service"}
    assert service_of(labels, known=known) == expected


@pytest.mark.parametrize(
    "labels", [{"alertname": "~(unclosed"}, {"severity": []}, {"severity": 5}, ["alertname"]]
)
def test_a_rule_whose_matchers_cannot_be_read_is_refused(labels):
    from django.core.exceptions import ValidationError

    rule = AlertRule(slug="x", name="x", level="warning", match_labels=labels)
    with pytest.raises(ValidationError):
        rule.clean()
