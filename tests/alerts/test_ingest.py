import base64
import datetime as dt

import pytest

from alerts.models import AlertEvent, AlertSource
from alerts.services import alert_source_rotate_token

from .conftest import T0, post
from .payloads import alertmanager, am_alert, datadog, datadog_custom, datadog_default

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(now):
    return now


def test_alertmanager_post_is_recorded_and_answered_202(client, tokens):
    body = alertmanager(am_alert(starts=T0, instance="a:1"), am_alert(starts=T0, instance="b:1"))
    response = post(client, "alertmanager", body, tokens["alertmanager"])
    assert response.status_code == 202, response.content
    assert response.json() == {"status": "accepted", "alerts": 2}
    assert AlertEvent.objects.count() == 2
    assert set(AlertEvent.objects.values_list("processed_at", flat=True)) == {None}


def test_a_replay_and_an_ha_duplicate_change_nothing(client, tokens):
    body = alertmanager(am_alert(starts=T0))
    for _ in range(3):  # the original, its HA twin, a replay
        assert post(client, "alertmanager", body, tokens["alertmanager"]).status_code == 202
    assert AlertEvent.objects.count() == 1


def test_processing_is_queued_after_commit(client, tokens, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        post(client, "alertmanager", alertmanager(am_alert(starts=T0)), tokens["alertmanager"])
    assert [c.__name__ for c in callbacks] == ["processing_schedule"]


def test_datadog_with_basic_auth(client, tokens):
    token = tokens["datadog"]
    basic = base64.b64encode(f"datadog:{token}".encode()).decode()
    response = client.post(
        "/api/alerts/datadog/",
        data=datadog(date_posix=int(T0.timestamp())),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 202, response.content
    assert AlertEvent.objects.get().fingerprint == "a1b2c3d4e5f6"


def test_datadog_default_payload_and_a_custom_template_are_accepted(send):
    from alerts.models import Alert

    ms = int(T0.timestamp() * 1000)
    send("datadog", datadog_default(title="[Triggered] Disk almost full on db-1", date_ms=ms))
    send(
        "datadog",
        datadog_custom(
            transition="Triggered", date_ms=ms, event_id="42", tags="service:api-gateway"
        ),
    )
    assert Alert.objects.filter(status="firing").count() == 2


@pytest.mark.parametrize(
    "header, status, words",
    [
        (None, 401, "required"),
        ("Bearer nxa_nope_x", 401, "not valid"),
        ("Bearer garbage", 401, "malformed"),
        ("Token abc", 401, "Bearer"),
        ("Basic !!!", 401, "base64"),
    ],
)
def test_missing_or_wrong_token_is_401_and_records_nothing(client, tokens, header, status, words):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        "/api/alerts/alertmanager/",
        data=alertmanager(am_alert(starts=T0)),
        content_type="application/json",
        **extra,
    )
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not AlertEvent.objects.exists()


def test_a_token_for_another_endpoint_is_403(client, tokens):
    response = post(client, "alertmanager", alertmanager(am_alert(starts=T0)), tokens["datadog"])
    assert response.status_code == 403 and "Datadog" in response.json()["error"]["message"]


def test_a_disabled_source_is_refused(client, tokens):
    source = AlertSource.objects.get(kind="alertmanager")
    source.enabled = False
    source.save()
    response = post(
        client, "alertmanager", alertmanager(am_alert(starts=T0)), tokens["alertmanager"]
    )
    assert response.status_code == 401


def test_rotation_keeps_the_old_token_for_the_grace_period(client, tokens, now):
    old = tokens["alertmanager"]
    source = AlertSource.objects.get(kind="alertmanager")
    new = alert_source_rotate_token(source=source, actor=None, grace=dt.timedelta(hours=1))
    assert new != old and new.split("_")[1] == old.split("_")[1]
    body = alertmanager(am_alert(starts=T0))
    assert post(client, "alertmanager", body, old).status_code == 202
    assert post(client, "alertmanager", body, new).status_code == 202
    now.advance(hours=1, seconds=1)
    assert post(client, "alertmanager", body, old).status_code == 401
    assert post(client, "alertmanager", body, new).status_code == 202
    alert_source_rotate_token(source=source, actor=None, grace=dt.timedelta(0))
    assert post(client, "alertmanager", body, new).status_code == 401


def test_wrong_content_type_is_415(client, tokens):
    response = post(
        client, "alertmanager", "a=b", tokens["alertmanager"], content_type="text/plain"
    )
    assert response.status_code == 415
    assert not AlertEvent.objects.exists()


def test_get_is_405(client):
    assert client.get("/api/alerts/generic/").status_code == 405


def test_a_body_over_the_source_limit_is_413(client, tokens):
    source = AlertSource.objects.get(kind="alertmanager")
    source.max_body_bytes = 2048
    source.save()
    alerts = [am_alert(starts=T0, instance=f"i{n}:1") for n in range(20)]
    response = post(client, "alertmanager", alertmanager(*alerts), tokens["alertmanager"])
    assert response.status_code == 413 and "2048" in response.json()["error"]["message"]
    assert not AlertEvent.objects.exists()


@pytest.mark.parametrize(
    "body, words",
    [
        (b"{not json", "not valid JSON"),
        ({"version": "4", "alerts": [], "colour": "red"}, "Unknown field"),
        ("[]", "JSON object"),
    ],
)
def test_bad_bodies_are_400_with_the_reason_and_record_nothing(client, tokens, body, words):
    response = post(client, "alertmanager", body, tokens["alertmanager"])
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]
    assert not AlertEvent.objects.exists()


def test_one_bad_alert_in_a_batch_records_none_of_them(client, tokens):
    body = alertmanager(am_alert(starts=T0, instance="a:1"), am_alert(starts=T0, instance="b:1"))
    body["alerts"][1]["startsAt"] = "1999-12-31T23:59:59Z"
    response = post(client, "alertmanager", body, tokens["alertmanager"])
    assert (
        response.status_code == 400 and "alerts[1].startsAt" in response.json()["error"]["message"]
    )
    assert not AlertEvent.objects.exists()
