"""Issue 18: local passwords can be switched off; a superuser keeps a break-glass password,
the login page then offers only single sign-on, and django-axes still locks out guessing."""

from __future__ import annotations

import pytest

from nexusops.common import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


@pytest.fixture
def passwords_off(settings):
    settings.SSO_LOCAL_PASSWORDS = False
    settings.SSO_OIDC_PROVIDERS = [
        {
            "slug": "nexus",
            "name": "NEXUS SSO",
            "issuer": "http://127.0.0.1:9/o",
            "client_id": "c",
            "client_secret": "s",
            "groups_claim": "groups",
            "scopes": "openid",
        }
    ]
    return settings


def test_the_login_page_shows_only_sso(client, passwords_off):
    body = client.get(LOGIN).content.decode()
    assert "Sign in with NEXUS SSO" in body
    assert 'name="password"' not in body
    # The break-glass form is one query parameter away.
    assert 'name="password"' in client.get(LOGIN + "?local=1").content.decode()


def test_a_person_cannot_use_a_password(client, passwords_off):
    UserFactory(username="ravi", role=roles.RESPONDER)
    response = client.post(LOGIN, {"username": "ravi", "password": "nexusops"})
    assert response.status_code == 200
    assert "Password sign-in is switched off here" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_superuser_still_can(client, passwords_off):
    UserFactory(username="root", role=roles.ADMIN)
    response = client.post(LOGIN, {"username": "root", "password": "nexusops"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_lockout_still_applies_to_the_break_glass_account(client, passwords_off):
    UserFactory(username="root", role=roles.ADMIN)
    for _ in range(5):
        client.post(LOGIN, {"username": "root", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    locked = client.post(
        LOGIN, {"username": "root", "password": "nexusops"}, REMOTE_ADDR="10.0.0.7"
    )
    assert locked.status_code == 429


def test_with_no_provider_configured_the_password_form_stays(client, settings):
    settings.SSO_LOCAL_PASSWORDS = False
    settings.SSO_OIDC_PROVIDERS = []
    assert 'name="password"' in client.get(LOGIN).content.decode()
