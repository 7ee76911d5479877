"""Rules, dedup, grouping into incidents, resolution, reopen, flapping, maintenance."""

import datetime as dt

import pytest

from alerts.models import Alert, AlertEvent, AlertGroup
from alerts.services import alerts_process, alerts_settle
from deployments.models import MaintenanceWindow
from incidents.models import Incident, Service, TimelineEvent
from incidents.services import incident_transition
from nexusops.engine.models import OutboxMessage
from tests.factories import incident

from .conftest import T0
from .payloads import alertmanager, am_alert

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def generic(value, metric, *, service="user-service", key=None, status="firing", at=None):
    body = {
        "dedup_key": key or f"{metric}:{service}",
        "title": f"{metric} on {service}",
        "service": service,
        "metric": metric,
        "value": value,
        "status": status,
    }
    if at is not None:
        body["at"] = at.isoformat()
    return body


@pytest.mark.parametrize(
    "metric, value, expected",
    [
        ("error_rate_percent", 5.01, "error-rate-critical"),
        ("error_rate_percent", 5.0, "error-rate-warning"),
        ("error_rate_percent", 1.01, "error-rate-warning"),
        ("error_rate_percent", 1.0, "unmatched"),
        ("latency_p95_seconds", 2.001, "latency-critical"),
        ("latency_p95_seconds", 2.0, "latency-warning"),
        ("latency_p95_seconds", 1.0, "unmatched"),
        ("db_connections_percent", 90.5, "db-connections-critical"),
        ("db_connections_percent", 90, "unmatched"),
        ("disk_usage_percent", 85.1, "disk-critical"),
        ("disk_usage_percent", 85, "unmatched"),
        ("cpu_usage_percent", 70.1, "cpu-warning"),
        ("cpu_usage_percent", 70, "unmatched"),
        ("memory_usage_percent", 80.1, "memory-warning"),
        ("memory_usage_percent", 80, "unmatched"),
        ("health_check", None, "platform-down"),
    ],
)
def test_runbook_thresholds_on_both_sides_of_each_boundary(send, metric, value, expected):
    send("generic", generic(value, metric))
    assert AlertGroup.objects.get().rule.slug == expected


def test_critical_opens_an_incident_at_p1_and_pages_once(send, pagerduty):
    send("generic", generic(7.5, "error_rate_percent"))
    group = AlertGroup.objects.get()
    inc = group.incident
    assert inc.severity.code == "P1" and inc.source == "alert"
    assert list(inc.services.values_list("slug", flat=True)) == ["user-service"]
    assert list(
        OutboxMessage.objects.filter(target="pagerduty.trigger").values_list("key", flat=True)
    ) == [f"{inc.number}:pd-trigger"]


def test_platform_down_is_p0(send):
    send("generic", generic(None, "health_check", service="api-gateway"))
    assert AlertGroup.objects.get().incident.severity.code == "P0"


def test_warning_goes_to_slack_with_no_incident_and_no_page(send, alerts_channel, pagerduty):
    send("generic", generic(75, "cpu_usage_percent"))
    assert not Incident.objects.exists()
    [message] = OutboxMessage.objects.filter(target="slack.post")
    assert (
        message.payload["channel"] == alerts_channel.channel_id
        and "CPU usage" in message.payload["text"]
    )
    assert not OutboxMessage.objects.filter(target__startswith="pagerduty").exists()


def test_same_fingerprint_updates_one_alert(send, now):
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    now.advance(minutes=1)
    send("alertmanager", alertmanager(am_alert(starts=T0 + dt.timedelta(seconds=30))))
    alert = Alert.objects.get()
    assert alert.event_count == 2 and alert.status == "firing"
    assert AlertEvent.objects.filter(processed_at__isnull=True).count() == 0


def test_alerts_of_one_rule_and_service_form_one_group_and_one_incident(send):
    body = alertmanager(*[am_alert(starts=T0, instance=f"pod-{n}:8080") for n in range(5)])
    send("alertmanager", body)
    group = AlertGroup.objects.get()
    assert group.alert_count == 5 and group.firing_count == 5
    assert Incident.objects.count() == 1
    # one declaration for the group; no event per alert
    assert (
        TimelineEvent.objects.filter(incident=group.incident).exclude(kind="declared").count() == 0
    )


def test_a_group_attaches_to_the_open_incident_of_its_service(send, pagerduty):
    existing = incident(title="Users cannot log in", services=("user-service",))
    pages = OutboxMessage.objects.filter(target="pagerduty.trigger").count()
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    group = AlertGroup.objects.get()
    assert group.incident == existing and Incident.objects.count() == 1
    note = TimelineEvent.objects.filter(incident=existing, kind="note").get()
    assert "Alert group attached" in note.message and note.channel == "alert"
    assert OutboxMessage.objects.filter(target="pagerduty.trigger").count() == pages


def test_resolution_tells_the_ic_and_a_refire_during_monitoring_reopens(send, now):
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    inc = AlertGroup.objects.get().incident
    now.advance(minutes=5)
    ends = T0 + dt.timedelta(minutes=4)
    send("alertmanager", alertmanager(am_alert(starts=T0, ends=ends, status="resolved")))
    group = AlertGroup.objects.get()
    assert group.status == "resolved" and group.firing_count == 0
    told = TimelineEvent.objects.filter(incident=inc, kind="note").latest("id")
    assert "resolved" in told.message and "Verify and resolve" in told.message
    for action in ("acknowledge", "investigate", "resolve", "monitor"):
        incident_transition(incident=inc, action=action, actor=None)
    now.advance(minutes=2)
    send("alertmanager", alertmanager(am_alert(starts=T0 + dt.timedelta(minutes=6))))
    inc.refresh_from_db()
    assert inc.status == "investigating"
    reopen = TimelineEvent.objects.filter(incident=inc, kind="status_changed").latest("id")
    assert reopen.data["action"] == "reopen" and "fired again" in reopen.message
    assert Incident.objects.count() == 1


def test_processing_twice_changes_nothing(send):
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    counts = (TimelineEvent.objects.count(), OutboxMessage.objects.count(), Alert.objects.count())
    assert alerts_process() == 0
    assert alerts_settle() == 0
    after = (TimelineEvent.objects.count(), OutboxMessage.objects.count(), Alert.objects.count())
    assert after == counts
    assert AlertGroup.objects.get().event_count == 1


def test_a_late_older_state_is_counted_not_applied(send, now):
    resolved = am_alert(starts=T0, ends=T0 + dt.timedelta(minutes=2), status="resolved")
    now.advance(minutes=3)
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    send("alertmanager", alertmanager(resolved))
    send("alertmanager", alertmanager(am_alert(starts=T0, instance="10.0.3.7:8080")), expect=202)
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.event_count == 2


def test_flapping_is_detected_and_damped(send, now, settings):
    settings.ALERTS_FLAP_CHANGES = 4
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    inc = AlertGroup.objects.get().incident
    for n in range(1, 7):  # resolve, fire, resolve, fire... every minute
        now.advance(minutes=1)
        at = T0 + dt.timedelta(minutes=n)
        if n % 2:
            body = am_alert(starts=at - dt.timedelta(minutes=1), ends=at, status="resolved")
        else:
            body = am_alert(starts=at)
        send("alertmanager", alertmanager(body))
    group = AlertGroup.objects.get()
    assert group.flapping and group.flap_noticed
    notes = list(
        TimelineEvent.objects.filter(incident=inc, kind="note").values_list("message", flat=True)
    )
    assert sum("flapping" in n for n in notes) == 1
    assert len(notes) <= 4  # not one per flip
    now.advance(minutes=11)
    alerts_settle()
    group.refresh_from_db()
    assert not group.flapping and group.announced_status == group.status


def test_a_maintenance_window_downgrades_to_slack_only(send, alerts_channel):
    window = MaintenanceWindow.objects.create(
        title="deploy window W-42",
        starts_at=T0 - dt.timedelta(minutes=30),
        ends_at=T0 + dt.timedelta(minutes=90),
        created_at=T0 - dt.timedelta(days=30),
    )
    window.services.set([Service.objects.get(slug="user-service")])
    send("alertmanager", alertmanager(am_alert(starts=T0)))
    group = AlertGroup.objects.get()
    assert "deploy window W-42" in group.suppressed_reason and group.incident is None
    [post] = OutboxMessage.objects.filter(target="slack.post")
    assert "maintenance, Slack only:" in post.payload["text"]
    assert "deploy window W-42" in post.payload["text"]


def test_unmatched_alerts_take_the_default_route(send, alerts_channel):
    send("generic", {"dedup_key": "odd", "title": "Something odd", "service": "auth-service"})
    group = AlertGroup.objects.get()
    assert group.rule.slug == "unmatched" and group.incident is None
    assert OutboxMessage.objects.filter(target="slack.post").count() == 1


def test_silenced_group_is_announced_when_the_silence_ends(send, alerts_channel, now):
    from alerts.services import alert_group_silence

    send("generic", generic(75, "cpu_usage_percent"))
    group = AlertGroup.objects.get()
    alert_group_silence(group=group, actor=None, minutes=30, reason="known noisy")
    now.advance(minutes=1)
    send("generic", generic(75, "cpu_usage_percent", status="resolved"))
    assert OutboxMessage.objects.filter(target="slack.post").count() == 1
    now.advance(minutes=30)
    assert alerts_settle() == 1
    assert OutboxMessage.objects.filter(target="slack.post").count() == 2
