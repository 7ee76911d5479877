"""Issue 14, item 12: an emergency window nobody approved yet silences nothing. A critical
alert during it still opens an incident and pages; once the named approver approves, the
same alert is downgraded to Slack only."""

import datetime as dt

import pytest

from alerts.models import AlertGroup
from deployments.models import MaintenanceWindow
from deployments.services import maintenance_emergency_create
from incidents.models import Profile
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from tests.factories import UserFactory

from .conftest import T0
from .test_processing import generic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def _people():
    requester = UserFactory(username="mgr", role=roles.MANAGER)
    cto = UserFactory(username="cto", role=roles.MANAGER)
    Profile.objects.update_or_create(user=cto, defaults={"org_role": Profile.OrgRole.CTO})
    cto.refresh_from_db()
    return requester, cto


def _request_window(requester, cto) -> MaintenanceWindow:
    # Requested 30 minutes before it starts; the alert arrives 30 minutes into it.
    with clock.frozen(T0 - dt.timedelta(minutes=60)):
        return maintenance_emergency_create(
            actor=requester, title="Emergency W-99", starts_at=T0 - dt.timedelta(minutes=30),
            ends_at=T0 + dt.timedelta(minutes=90), services=["user-service"], approver=cto,
        )  # fmt: skip


def test_alert_during_an_unapproved_emergency_window_still_pages(send, pagerduty, alerts_channel):
    requester, cto = _people()
    _request_window(requester, cto)

    send("generic", generic(7.5, "error_rate_percent"))
    group = AlertGroup.objects.get()
    assert not group.suppressed_reason
    assert group.incident is not None
    assert OutboxMessage.objects.filter(target="pagerduty.trigger").count() == 1


def test_once_approved_the_window_downgrades(send, pagerduty, alerts_channel):
    requester, cto = _people()
    from deployments.services import maintenance_emergency_approve

    window = _request_window(requester, cto)
    maintenance_emergency_approve(window=window, actor=cto)

    send("generic", generic(7.5, "error_rate_percent"))
    group = AlertGroup.objects.get()
    assert "Emergency W-99" in group.suppressed_reason and group.incident is None
    assert not OutboxMessage.objects.filter(target="pagerduty.trigger").exists()
