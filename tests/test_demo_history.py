"""The demo has ninety days of history, so the pages a manager opens first show data."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from alerts.models import AlertGroup
from deployments.models import Deployment, MaintenanceWindow
from incidents.history import FIRST_SEQ
from incidents.models import Incident, Status, TimelineEvent
from nexusops.engine.models import OutboxMessage, Timer
from postmortems.models import ActionItem, PostMortem
from statuspage.models import PublicUpdate

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _seed() -> None:
    with open("/dev/null", "w") as quiet:
        call_command("seed_demo", stdout=quiet)


def _history() -> list[tuple[str, str, str]]:
    return list(
        Incident.objects.filter(seq__gte=FIRST_SEQ)
        .order_by("seq")
        .values_list("seq", "severity__code", "title")
    )


def test_history_is_seeded_once_deterministically_and_sends_nothing():
    _seed()
    first = _history()
    assert len(first) == 64
    assert set(Counter(code for _, code, _ in first)) == {"P0", "P1", "P2", "P3"}
    assert not Incident.objects.filter(seq__gte=FIRST_SEQ).exclude(status=Status.CLOSED).exists()
    _seed()
    assert _history() == first  # a second `make run` adds nothing
    # Past incidents are over: nothing of theirs is queued for Slack or PagerDuty, no clock runs.
    assert not OutboxMessage.objects.filter(incident__seq__gte=FIRST_SEQ).exists()
    assert not Timer.objects.filter(incident__seq__gte=FIRST_SEQ).exists()
    # Every past incident has a full timeline, in order.
    for incident in Incident.objects.filter(seq__gte=FIRST_SEQ)[:10]:
        kinds = list(
            TimelineEvent.objects.filter(incident=incident)
            .order_by("created_at", "id")
            .values_list("kind", flat=True)
        )
        assert kinds[0] == "declared" and kinds[-1] == "status_changed"
        assert "update" in kinds


def test_history_covers_every_page_a_manager_opens_first():
    _seed()
    assert set(PostMortem.objects.values_list("status", flat=True)) == {
        "draft",
        "in_review",
        "approved",
    }
    assert ActionItem.objects.filter(status="done").exists()
    assert ActionItem.objects.filter(status__in=["open", "in_progress"]).exists()
    assert Deployment.objects.filter(kind="rollback").exists()
    assert Deployment.objects.filter(kind="hotfix", incident__isnull=False).exists()
    assert MaintenanceWindow.objects.filter(status="completed").count() == 3
    assert AlertGroup.objects.filter(incident__seq__gte=FIRST_SEQ).exists()
    assert PublicUpdate.objects.filter(incident__seq__gte=FIRST_SEQ).exists()


def test_reports_dora_and_the_status_page_show_data_on_the_first_run(client):
    _seed()
    client.force_login(get_user_model().objects.get(username="manager"))
    reports = client.get(reverse("report-dashboard"))
    assert reports.status_code == 200
    body = reports.content.decode()
    assert "<svg" in body
    assert len(re.findall(r"<rect[^>]*height=\"[1-9]", body)) > 5  # bars with height
    dora = client.get(reverse("deployment-dora")).content.decode()
    rates = re.findall(r"<td>(\d+(?:\.\d+)?) %</td>", dora)
    assert rates and any(float(r) > 0 for r in rates)  # some months had failed changes
    assert re.search(r"<td>[\d.]+ min</td>", dora)  # and a time to restore
    client.logout()
    status = client.get(reverse("status-page")).content.decode()
    assert status.count('class="sp-day sev-P') > 20  # the 90-day bars have incident days
