"""Storm bounds: one Slack post per second per channel (the rest edit a running summary),
bounded new incidents, one page per incident, a timeline that does not grow per alert."""

import pytest

from alerts.models import Alert, AlertEvent, AlertGroup
from alerts.services import alerts_process
from incidents.models import Incident, TimelineEvent
from nexusops.engine.models import OutboxMessage
from tests.support.outbox import deliver_due

from .conftest import post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def warning_storm(client, token, *, services: int, per_service: int, start: int = 0):
    for n in range(per_service):
        alerts = [
            {
                "dedup_key": f"cpu:{s}:{n % 3}",
                "id": f"{start}-{s}-{n}",
                "title": f"CPU high {s}",
                "service": f"svc-{s}",
                "metric": "cpu_usage_percent",
                "value": 90,
            }
            for s in range(services)
        ]
        assert post(client, "generic", {"alerts": alerts}, token).status_code == 202


def test_a_warning_storm_posts_once_per_second_and_folds_the_rest(
    client, tokens, alerts_channel, now
):
    warning_storm(client, tokens["generic"], services=20, per_service=10)
    assert AlertEvent.objects.count() == 200
    alerts_process()
    assert AlertGroup.objects.count() == 20 and Alert.objects.count() == 60
    posts = OutboxMessage.objects.filter(target="slack.post")
    updates = OutboxMessage.objects.filter(target="slack.update")
    assert posts.count() == 1 and updates.count() == 1
    assert "…and 19 more" in updates.get().payload["text"]

    now.advance(seconds=1)
    warning_storm(client, tokens["generic"], services=25, per_service=1, start=1)
    alerts_process()
    assert posts.count() == 2 and updates.count() == 2  # 5 new groups: 1 post, 4 folded
    assert not Incident.objects.exists()


def test_the_running_summary_edits_the_post_in_slack(client, tokens, alerts_channel, now):
    warning_storm(client, tokens["generic"], services=3, per_service=1)
    alerts_process()
    now.advance(seconds=2)
    assert deliver_due() == ["sent", "sent"]
    [posted] = [r for r in alerts_channel.received() if r["path"] == "/api/chat.postMessage"]
    [edited] = [r for r in alerts_channel.received() if r["path"] == "/api/chat.update"]
    assert posted["body"]["channel"] == alerts_channel.channel_id
    assert "…and 2 more" in edited["body"]["text"] and edited["body"]["ts"]


def test_a_critical_storm_bounds_new_incidents_and_pages(client, tokens, pagerduty, settings, now):
    settings.ALERTS_NEW_INCIDENTS_PER_MINUTE = 3
    for n in range(10):
        alerts = [
            {
                "dedup_key": f"err:{s}:{n}",
                "title": "errors",
                "service": f"svc-{s}",
                "metric": "error_rate_percent",
                "value": 30,
            }
            for s in range(8)
        ]
        assert post(client, "generic", {"alerts": alerts}, tokens["generic"]).status_code == 202
    alerts_process()
    assert AlertGroup.objects.count() == 8
    assert Incident.objects.count() == 3
    assert OutboxMessage.objects.filter(target="pagerduty.trigger").count() == 3
    assert set(AlertGroup.objects.values_list("incident", flat=True)) <= set(
        Incident.objects.values_list("pk", flat=True)
    )
    # one event per group state change: 3 declarations + 5 storm attachments
    assert TimelineEvent.objects.exclude(kind="declared").filter(kind="note").count() == 5
    group = AlertGroup.objects.get(service_slug="svc-0")
    assert group.alert_count == 10 and group.event_count == 10
