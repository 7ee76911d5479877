from html import escape

import pytest

from alerts.models import AlertGroup
from nexusops.common import roles
from tests.factories import UserFactory

from .conftest import T0
from .payloads import alertmanager, am_alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def fired(send, now):
    send("alertmanager", alertmanager(*[am_alert(starts=T0, instance=f"p{n}:1") for n in range(3)]))
    return AlertGroup.objects.get()


def login(client, role):
    user = UserFactory(username=f"v-{role.lower().replace(' ', '-')}", role=role)
    client.force_login(user)
    return user


def test_group_list_detail_and_alert_list_show_counts_and_the_incident(client, fired):
    login(client, roles.STAKEHOLDER)
    listing = client.get("/alerts/").content.decode()
    assert (
        escape(fired.title) in listing and fired.incident.number in listing and "3 / 3" in listing
    )
    assert "Alerts" in listing  # the navigation entry
    detail = client.get(f"/alerts/groups/{fired.pk}/").content.decode()
    assert "p0:1" in detail and "/ack/" not in detail  # a stakeholder only reads
    assert "HighErrorRate" in client.get("/alerts/all/?status=firing").content.decode()
    api = client.get("/api/alerts/groups/?status=firing").json()
    assert api["results"][0]["incident"] == fired.incident.number


def test_the_incident_panel_shows_the_group_count(client, fired, send, now):
    login(client, roles.RESPONDER)
    url = f"/alerts/incidents/{fired.incident.number}/groups/"
    assert "3 / 3" in client.get(url).content.decode()
    now.advance(seconds=30)
    send("alertmanager", alertmanager(am_alert(starts=T0, instance="p9:1")))
    assert "4 / 4" in client.get(url).content.decode()


def test_acknowledge_and_silence(client, fired):
    user = login(client, roles.INCIDENT_COMMANDER)
    assert client.post(f"/alerts/groups/{fired.pk}/ack/").status_code == 302
    response = client.post(
        f"/alerts/groups/{fired.pk}/silence/", {"minutes": "90", "reason": "node drain"}
    )
    assert response.status_code == 302
    fired.refresh_from_db()
    assert fired.acknowledged_by == user and fired.silence_reason == "node drain"
    assert (fired.silenced_until - T0).total_seconds() == 90 * 60
    page = client.get(f"/alerts/groups/{fired.pk}/").content.decode()
    assert "node drain" in page


def test_silence_needs_a_reason_and_a_sane_duration(client, fired):
    login(client, roles.MANAGER)
    for data in ({"minutes": "30", "reason": ""}, {"minutes": "999999", "reason": "x"}):
        response = client.post(f"/alerts/groups/{fired.pk}/silence/", data, follow=True)
        assert response.status_code == 200
        fired.refresh_from_db()
        assert fired.silenced_until is None
    assert (
        "Say why"
        in client.post(
            f"/alerts/groups/{fired.pk}/silence/", {"minutes": "5"}, follow=True
        ).content.decode()
    )


def test_a_responder_cannot_silence(client, fired):
    login(client, roles.RESPONDER)
    response = client.post(f"/alerts/groups/{fired.pk}/silence/", {"minutes": "5", "reason": "x"})
    assert response.status_code == 403
