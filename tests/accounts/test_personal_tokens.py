"""Issue 18: personal API tokens - made and revoked by their owner in the console, seen and
revoked by managers, refused once expired or revoked; integration tokens unchanged."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import PersonalToken
from nexusops.common import clock, roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
API = "/api/incidents/"


def create(client, name: str = "laptop", days: int = 30) -> str:  # noqa: ANN001
    response = client.post(reverse("token-list"), {"name": name, "expires_in_days": days})
    assert response.status_code == 201, response.content[:500]
    return re.search(r"data-token-key>(nxp_[^<]+)<", response.content.decode()).group(1)


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def ravi(client):
    user = UserFactory(username="ravi", role=roles.RESPONDER)
    client.force_login(user)
    return user


def test_a_person_makes_a_token_that_acts_as_them_and_notes_its_use(client, ravi):
    key = create(client)

    token = PersonalToken.objects.get(user=ravi)
    assert token.name == "laptop" and token.key_hash != key and key not in token.key_hash
    assert key.startswith(token.prefix) and token.last_used_at is None
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    response = api(key).get(API)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    # The key is shown once: the list afterwards has only its prefix.
    page = client.get(reverse("token-list")).content.decode()
    assert token.prefix in page and key not in page


def test_an_expired_token_is_refused(client, ravi):
    key = create(client, days=7)
    token = PersonalToken.objects.get(user=ravi)
    with clock.frozen(token.expires_at - dt.timedelta(seconds=1)):
        assert api(key).get(API).status_code == 200
    with clock.frozen(token.expires_at + dt.timedelta(seconds=1)):
        refused = api(key).get(API)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "Invalid, expired or revoked token."


def test_the_owner_revokes_a_token_and_it_stops_working_at_once(client, ravi):
    key = create(client)
    assert api(key).get(API).status_code == 200
    token = PersonalToken.objects.get(user=ravi)

    response = client.post(reverse("token-revoke", args=[token.pk]))

    assert response.status_code == 302
    assert api(key).get(API).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == ravi


def test_someone_else_cannot_revoke_or_see_my_token(client, ravi):
    key = create(client)
    token = PersonalToken.objects.get(user=ravi)
    client.force_login(UserFactory(username="olga", role=roles.INCIDENT_COMMANDER))

    client.post(reverse("token-revoke", args=[token.pk]))

    token.refresh_from_db()
    assert token.revoked_at is None and api(key).get(API).status_code == 200
    assert 'data-token="laptop"' not in client.get(reverse("token-list")).content.decode()
    assert client.get(reverse("token-list-all")).status_code == 403


def test_a_manager_sees_everyones_tokens_and_revokes_one(client, ravi):
    key = create(client, name="ravi's script")
    token = PersonalToken.objects.get(user=ravi)
    maya = UserFactory(username="maya", role=roles.MANAGER)
    client.force_login(maya)

    page = client.get(reverse("token-list-all")).content.decode()
    assert "ravi&#x27;s script" in page and "ravi" in page
    client.post(reverse("token-revoke", args=[token.pk]), {"back": "all"})

    token.refresh_from_db()
    assert token.revoked_by == maya
    assert api(key).get(API).status_code == 401
    assert "revoked by maya" in client.get(reverse("token-list-all")).content.decode()


def test_bad_input_makes_no_token(client, ravi):
    for data in ({"name": "", "expires_in_days": 30}, {"name": "x", "expires_in_days": 400}):
        response = client.post(reverse("token-list"), data)
        assert response.status_code == 400
    create(client, name="same")
    assert (
        client.post(reverse("token-list"), {"name": "same", "expires_in_days": 30}).status_code
        == 409
    )
    assert PersonalToken.objects.count() == 1


def test_an_unknown_personal_key_is_refused_and_integration_tokens_still_work(client, ravi):
    assert api("nxp_" + "x" * 40).get(API).status_code == 401
    bot = UserFactory(username="bot", role=roles.RESPONDER)
    integration = Token.objects.create(user=bot).key
    assert api(integration).get(API).status_code == 200


def test_a_deactivated_owners_token_is_refused(client, ravi):
    key = create(client)
    ravi.is_active = False
    ravi.save()
    assert api(key).get(API).status_code == 401
