"""Console pages show times in the viewer's zone, with the abbreviation, and UTC on hover.

A person in America/Los_Angeles sees PST in winter and PDT in summer; the ``<time>`` element
keeps the UTC instant in ``datetime`` and ``title`` (the ``{% when %}`` tag).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from alerts.models import AlertGroup, AlertStatus, Level
from deployments.models import Deployment, MaintenanceEvent, MaintenanceWindow
from nexusops.common import clock, roles
from tests.factories import ProfileFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

LA = "America/Los_Angeles"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
WINTER = dt.datetime(2027, 1, 20, 10, 0, tzinfo=dt.UTC)  # 02:00 PST
SUMMER = dt.datetime(2026, 7, 1, 12, 0, 5, tzinfo=dt.UTC)  # 05:00:05 PDT


@pytest.fixture
def la_client(client):
    user = UserFactory(username="pat", role=roles.ADMIN)
    ProfileFactory(user=user, time_zone=LA)
    client.force_login(user)
    return client


def _get(client, url: str) -> str:  # noqa: ANN001
    with clock.frozen(NOW):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_maintenance_windows_and_their_history_show_local_time_not_a_false_utc(la_client):
    approver = UserFactory(username="mara", role=roles.MANAGER)
    window = MaintenanceWindow.objects.create(
        title="DB upgrade", starts_at=WINTER, ends_at=WINTER + dt.timedelta(hours=2),
        created_at=NOW, kind=MaintenanceWindow.Kind.EMERGENCY, approver=approver,
    )  # fmt: skip
    MaintenanceEvent.objects.create(
        window=window, kind="requested", message="asked for it", created_at=SUMMER
    )
    html = _get(la_client, "/maintenance/")
    assert '<time datetime="2027-01-20T10:00:00Z" title="2027-01-20 10:00:00 UTC">' in html
    assert "Wed 2027-01-20 02:00 PST</time>" in html
    assert "04:00 PST</time>" in html
    assert 'title="2026-07-01 12:00:05 UTC">2026-07-01 05:00 PDT</time>: asked for it' in html
    # Before: the local time carried a "UTC" label it was not.
    assert "05:00 UTC" not in html


def test_deployment_pages_show_local_time_with_utc_on_hover(la_client):
    d = Deployment.objects.create(
        version="v1.2.3", git_sha="abcdef1", deployer_name="ci", status="succeeded",
        started_at=SUMMER, finished_at=WINTER, created_at=SUMMER,
    )  # fmt: skip
    d.services.set([ServiceFactory(slug="user-service")])
    for url in (f"/deployments/{d.pk}/", "/deployments/"):
        html = _get(la_client, url)
        assert 'title="2026-07-01 12:00:05 UTC">2026-07-01 05:00 PDT</time>' in html, url
    assert 'title="2027-01-20 10:00:00 UTC">2027-01-20 02:00 PST</time>' in _get(
        la_client, f"/deployments/{d.pk}/"
    )


def test_alert_pages_show_local_time_with_utc_on_hover(la_client):
    group = AlertGroup.objects.create(
        key="cpu-warning:user-service", rule_name="CPU usage > 70%", level=Level.WARNING,
        service_slug="user-service", title="CPU usage > 70% on user-service",
        status=AlertStatus.FIRING, first_seen=SUMMER, last_seen=WINTER, status_changed_at=WINTER,
    )  # fmt: skip
    html = _get(la_client, f"/alerts/groups/{group.pk}/")
    assert 'title="2026-07-01 12:00:05 UTC">2026-07-01 05:00:05 PDT</time>' in html
    assert 'title="2027-01-20 10:00:00 UTC">2027-01-20 02:00:00 PST</time>' in html


def test_a_meeting_is_entered_in_the_viewers_zone_and_mailed_in_utc(client):
    """Pages speak the person's zone; the e-mail and Slack invitations stay in UTC."""
    from nexusops.engine.models import OutboxMessage
    from postmortems.models import PostMortem
    from tests.postmortems.helpers import resolved

    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER, email="iris@nexus.example")
    ProfileFactory(user=ic, time_zone=LA)
    client.force_login(ic)
    with clock.frozen(NOW):
        inc = resolved("P1", actor=ic)
        # 09:00 on the commander's clock in December is 17:00 UTC.
        response = client.post(
            f"/postmortems/{inc.number}/schedule/",
            {"meeting_at": "2026-12-02T09:00", "attendees": [str(ic.pk)]},
        )
        assert response.status_code == 302
        pm = PostMortem.objects.get(incident=inc)
        assert pm.meeting_at == dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
        html = _get(client, f"/postmortems/{inc.number}/")
    assert 'title="2026-12-02 17:00:00 UTC">2026-12-02 09:00 PST</time>' in html
    assert "(America/Los_Angeles, your profile's zone)" in html
    texts = [str(m.payload) for m in OutboxMessage.objects.filter(target__startswith="email")]
    assert texts and all("2026-12-02 17:00 UTC" in t and "09:00" not in t for t in texts)


def test_the_on_call_calendar_keeps_the_rotations_zone_and_adds_utc_on_hover(la_client):
    from oncall.models import Rotation, RotationMember

    Rotation.objects.all().delete()
    rotation = Rotation.objects.create(
        name="Primary", start_date=dt.date(2026, 11, 27), time_zone="Europe/Berlin"
    )
    RotationMember.objects.create(rotation=rotation, user=UserFactory(username="ana"), position=0)
    html = _get(la_client, "/oncall/calendar/?date=2026-12-01")
    # The grid is laid out in the rotation's days, so its times stay in that zone, labelled.
    assert "Handoff <time" in html
    assert re.search(r'title="2026-12-0\d 08:00:00 UTC">09:00 CET</time>', html)
    assert 'title="2026-12-04 08:00:00 UTC">Fri 4 Dec 09:00 CET</time>' in html
