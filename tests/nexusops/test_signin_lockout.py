"""Issue 14 item 1: sign-in locks out with back-off, a manager unlocks in the admin, and the
API is throttled (alert intake excepted)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from nexusops.common import roles
from nexusops.common.roles import roles_sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def ravi():
    user = UserFactory(username="ravi", role=roles.RESPONDER)
    user.set_password(PASSWORD)
    user.save()
    return user


def _try(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_with_a_clear_message(client, ravi):
    for _ in range(4):
        assert _try(client, "ravi", "wrong").status_code == 200  # the form again, with its error
    assert _try(client, "ravi", "wrong").status_code == 429  # the fifth failure locks
    locked = _try(client, "ravi", PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Sign-in locked" in body and "ask a manager to unlock" in body
    assert "_auth_user_id" not in client.session
    # From another address too: the account itself is locked.
    assert _try(client, "ravi", PASSWORD, ip="10.9.9.9").status_code == 429
    # The audit: who, from where, how often.
    attempt = AccessAttempt.objects.get(username="ravi", ip_address="10.0.0.1")
    assert attempt.failures_since_start >= 5
    assert AccessFailureLog.objects.filter(username="ravi", locked_out=True).exists()


def test_the_lock_backs_off(client, ravi):
    for _ in range(4):
        _try(client, "ravi", "wrong")
    first = _try(client, "ravi", "wrong").content.decode()
    assert "Try again in 1 minute" in first
    _try(client, "ravi", "wrong")
    assert "Try again in 4 minutes" in _try(client, "ravi", "wrong").content.decode()


def test_one_address_guessing_many_accounts_is_locked(client, ravi):
    for n in range(5):
        _try(client, f"someone{n}", "wrong", ip="10.6.6.6")
    assert _try(client, "ravi", PASSWORD, ip="10.6.6.6").status_code == 429
    assert _try(client, "ravi", PASSWORD, ip="10.0.0.2").status_code == 302  # others unaffected


def test_a_manager_unlocks_the_account_in_the_admin(client, ravi):
    for _ in range(6):
        _try(client, "ravi", "wrong")
    assert _try(client, "ravi", PASSWORD).status_code == 429

    roles_sync()
    mona = UserFactory(username="mona", role=roles.MANAGER, is_staff=True)
    admin = APIClient()  # a plain Django test client with force_login
    admin.force_login(mona)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "ravi" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="ravi")
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="ravi").exists()
    assert _try(client, "ravi", PASSWORD).status_code == 302  # signed in


def test_the_api_is_throttled_per_token(settings, ravi):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/min", "anon": "2/min"},
    }
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ravi).key}")
    assert [api.get("/api/me/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/me/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"


def test_alert_intake_is_never_throttled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1/min", "anon": "1/min"},
    }
    api = APIClient(REMOTE_ADDR="10.8.8.8")
    codes = {api.post("/api/alerts/generic/", {}, format="json").status_code for _ in range(5)}
    assert 429 not in codes
