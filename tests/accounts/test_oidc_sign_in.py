"""Issue 18: OpenID Connect sign-in against NEXUS SSO (django-oauth-toolkit) over real HTTP.

The console side runs in Django's test client; everything it says to the provider (discovery,
token exchange with the PKCE verifier, JWKS, userinfo) goes over HTTP to the provider process,
and the provider's own login page is walked by :func:`idp_sign_in` like a browser would.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import SsoIdentity
from nexusops.common import roles
from tests.factories import UserFactory
from tests.support.idp_fixtures import console_path, idp_sign_in

pytestmark = pytest.mark.django_db
START = "/accounts/sso/nexus/login/"


def start(client, next_url: str = "") -> str:
    response = client.get(START + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def sign_in(client, username: str, next_url: str = ""):  # noqa: ANN001, ANN201
    callback = idp_sign_in(start(client, next_url), username)
    return client.get(console_path(callback)), callback


def signed_in_as(client) -> str:
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else ""


def test_the_authorization_request_uses_pkce_state_and_nonce(client, nexus_sso):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/accounts/sso/nexus/callback/"]
    assert "groups" in query["scope"][0].split()


def test_first_sign_in_makes_a_commander_who_lands_on_the_incident_list(client, nexus_sso):
    response, _ = sign_in(client, "casey")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in_as(client) == "casey"
    casey = get_user_model().objects.get(username="casey")
    assert roles.user_role(casey) == roles.INCIDENT_COMMANDER
    assert (casey.email, casey.first_name, casey.last_name) == (
        "casey@nexus.example",
        "Casey",
        "Commander",
    )
    assert not casey.has_usable_password()
    identity = SsoIdentity.objects.get(user=casey)
    assert identity.provider == "nexus" and identity.groups == ["nexus-incident-commanders"]
    assert client.get(reverse("incident-list")).status_code == 200


def test_next_is_honoured_but_only_on_this_site(client, nexus_sso):
    response, _ = sign_in(client, "rory", next_url="/oncall/")
    assert response["Location"] == "/oncall/"
    client.logout()
    response, _ = sign_in(client, "rory", next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_moving_to_the_stakeholders_group_makes_a_stakeholder_at_next_sign_in(client, nexus_sso):
    sign_in(client, "casey")
    casey = get_user_model().objects.get(username="casey")
    assert roles.user_role(casey) == roles.INCIDENT_COMMANDER

    nexus_sso.person("casey", "nexus-stakeholders")
    client.logout()
    sign_in(client, "casey")

    names = set(casey.groups.values_list("name", flat=True))
    assert names == {roles.STAKEHOLDER}
    assert get_user_model().objects.filter(username__startswith="casey").count() == 1


def test_leaving_every_mapped_group_takes_the_role_away_and_keeps_other_groups(client, nexus_sso):
    sign_in(client, "morgan")
    morgan = get_user_model().objects.get(username="morgan")
    auditors = Group.objects.create(name="Auditors")  # an admin's own group, not a role
    morgan.groups.add(auditors)

    nexus_sso.person("morgan", "nexus-cafeteria")
    client.logout()
    sign_in(client, "morgan")

    assert roles.user_role(morgan) == ""
    assert set(morgan.groups.values_list("name", flat=True)) == {"Auditors"}
    assert SsoIdentity.objects.get(user=morgan).groups == ["nexus-cafeteria"]


def test_the_mapping_comes_from_settings(client, nexus_sso, settings):
    settings.SSO_GROUP_ROLES = "nexus-stakeholders=Manager"
    sign_in(client, "sasha")
    assert roles.user_role(get_user_model().objects.get(username="sasha")) == roles.MANAGER


def test_a_verified_email_adopts_the_local_account_with_that_email(client, nexus_sso):
    local = UserFactory(username="iris", email="casey@nexus.example", role=roles.RESPONDER)
    sign_in(client, "casey")
    assert signed_in_as(client) == "iris"
    assert SsoIdentity.objects.get(provider="nexus").user == local
    # The provider's groups decide from now on.
    assert roles.user_role(local) == roles.INCIDENT_COMMANDER


def test_a_superuser_is_never_adopted_by_email(client, nexus_sso):
    UserFactory(username="root", email="casey@nexus.example", role=roles.ADMIN)
    sign_in(client, "casey")
    assert signed_in_as(client) == "casey"


def test_a_deactivated_account_is_refused(client, nexus_sso):
    sign_in(client, "rory")
    get_user_model().objects.filter(username="rory").update(is_active=False)
    client.logout()
    response, _ = sign_in(client, "rory")
    assert response.status_code == 403
    assert "deactivated" in response.content.decode()
    assert signed_in_as(client) == ""


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("bad_signature", "signature does not verify with the provider&#x27;s published keys"),
        ("wrong_audience", "issued to another client"),
        ("expired", "the id_token has expired"),
        ("replay", "nonce is not this sign-in&#x27;s"),
    ],
)
def test_a_broken_id_token_is_refused(client, nexus_sso, caplog, fault, cause):
    if fault == "replay":
        sign_in(client, "casey")  # an id_token the attacker captured
        client.logout()
    nexus_sso.fault(fault)
    caplog.set_level(logging.WARNING, logger="nexusops.sso")

    response, _ = sign_in(client, "casey")

    assert response.status_code == 400
    body = response.content.decode()
    assert "NexusOps refused this sign-in" in body and cause in body
    assert signed_in_as(client) == ""
    assert any(
        "sign-in with nexus failed" in r.getMessage()
        and cause.replace("&#x27;", "'") in r.getMessage()
        for r in caplog.records
    )
    if fault != "replay":
        assert not get_user_model().objects.filter(username="casey").exists()


def test_a_replayed_callback_is_refused(client, nexus_sso, django_user_model):
    first, callback = sign_in(client, "casey")
    assert first.status_code == 302
    client.logout()

    again = client.get(console_path(callback))

    assert again.status_code == 400
    assert "state is unknown or was already used" in again.content.decode()
    assert signed_in_as(client) == ""


def test_a_callback_from_another_browser_is_refused(client, nexus_sso):
    callback = idp_sign_in(start(client), "casey")
    from django.test import Client

    other = Client()
    response = other.get(console_path(callback))
    assert response.status_code == 400
    assert "_auth_user_id" not in other.session


def test_a_provider_that_is_down_says_so_and_local_login_keeps_working(
    client, nexus_sso, settings, caplog
):
    settings.SSO_OIDC_PROVIDERS = [nexus_sso.provider(issuer="http://127.0.0.1:9/o")]
    caplog.set_level(logging.WARNING, logger="nexusops.sso")

    response = client.get(START)

    assert response.status_code == 502
    body = response.content.decode()
    assert "NEXUS SSO cannot sign you in right now" in body
    assert "connection refused" in body
    assert "Sign in with your password instead" in body
    assert any(
        "nexus" in r.getMessage() and "connection refused" in r.getMessage() for r in caplog.records
    )
    UserFactory(username="ravi", role=roles.RESPONDER)
    login = client.post("/accounts/login/", {"username": "ravi", "password": "nexusops"})
    assert login.status_code == 302 and signed_in_as(client) == "ravi"


def test_a_wrong_client_secret_says_which_setting_is_wrong(client, nexus_sso, settings, caplog):
    settings.SSO_OIDC_PROVIDERS = [nexus_sso.provider(client_secret="not-the-secret")]
    caplog.set_level(logging.WARNING, logger="nexusops.sso")

    response, _ = sign_in(client, "casey")

    assert response.status_code == 502
    body = response.content.decode()
    assert "refused NexusOps&#x27;s client credentials" in body
    assert "OIDC_NEXUS_CLIENT_SECRET" in body
    assert any("OIDC_NEXUS_CLIENT_SECRET" in r.getMessage() for r in caplog.records)
    assert signed_in_as(client) == ""


def test_the_login_page_offers_the_provider(client, nexus_sso):
    body = client.get("/accounts/login/").content.decode()
    assert "Sign in with NEXUS SSO" in body
    assert 'name="password"' in body  # local passwords are on by default


def test_an_unknown_provider_is_not_found(client, nexus_sso):
    assert client.get("/accounts/sso/okta/login/").status_code == 404
