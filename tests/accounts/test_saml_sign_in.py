"""Issue 18: SAML 2.0 sign-in (djangosaml2) against an identity provider built with pysaml2.

The console reads the provider's metadata over HTTP, sends an AuthnRequest, and verifies the
signed response with xmlsec1; roles come from the groups attribute like an OIDC sign-in's.
A response whose signed content was changed is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from accounts.models import SsoIdentity
from accounts.saml_config import sp_config
from nexusops.common import roles
from tests.support import saml_idp

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def idp_process(tmp_path_factory) -> Iterator[saml_idp.SamlIdp]:
    idp, server = saml_idp.start(tmp_path_factory.mktemp("saml-idp"))
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def saml(settings, idp_process):
    settings.SAML_IDP_METADATA_URL = idp_process.metadata_url
    settings.SAML_NAME = "Corporate SAML"
    settings.SAML_CONFIG = sp_config(
        metadata_url=idp_process.metadata_url,
        entity_id="http://testserver/saml2/metadata/",
        site_url="http://testserver",
    )
    return idp_process


def identity(groups: list[str]) -> dict:
    return {
        "mail": ["kim@corp.example"],
        "uid": ["kim"],
        "givenName": ["Kim"],
        "sn": ["Lee"],
        "groups": groups,
    }


def response_for(client, idp, groups: list[str]) -> tuple[str, str]:  # noqa: ANN001
    start = client.get("/saml2/login/?next=/oncall/")
    assert start.status_code == 302, start.content[:300]
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.url}/sso"
    query = parse_qs(location.query)
    sp_metadata = client.get("/saml2/metadata/").content.decode()
    xml = idp.respond(
        sp_metadata=sp_metadata,
        saml_request=query["SAMLRequest"][0],
        subject="kim-0001",
        identity=identity(groups),
    )
    return xml, query.get("RelayState", [""])[0]


def test_the_login_page_offers_saml(client, saml):
    assert "Sign in with Corporate SAML" in client.get("/accounts/login/").content.decode()


def test_a_signed_response_signs_in_with_roles_from_groups(client, saml):
    xml, relay = response_for(client, saml, ["nexus-incident-commanders"])

    response = client.post("/saml2/acs/", {"SAMLResponse": saml.encode(xml), "RelayState": relay})

    assert response.status_code == 302 and response["Location"] == "/oncall/"
    kim = get_user_model().objects.get(username="kim")
    assert client.session["_auth_user_id"] == str(kim.pk)
    assert roles.user_role(kim) == roles.INCIDENT_COMMANDER
    assert kim.email == "kim@corp.example"
    identity_row = SsoIdentity.objects.get(user=kim)
    assert (identity_row.provider, identity_row.subject) == ("saml", "kim-0001")

    client.logout()
    xml, relay = response_for(client, saml, ["nexus-stakeholders"])
    client.post("/saml2/acs/", {"SAMLResponse": saml.encode(xml), "RelayState": relay})
    assert roles.user_role(kim) == roles.STAKEHOLDER


def test_a_response_changed_after_signing_is_refused(client, saml, caplog):
    xml, relay = response_for(client, saml, ["nexus-stakeholders"])
    forged = xml.replace("nexus-stakeholders", "nexus-managers")
    assert forged != xml
    caplog.set_level(logging.WARNING, logger="nexusops.sso")

    response = client.post(
        "/saml2/acs/", {"SAMLResponse": saml.encode(forged), "RelayState": relay}
    )

    assert response.status_code == 403
    body = response.content.decode()
    assert "NexusOps refused this sign-in" in body
    assert "signature does not verify with the provider&#x27;s key" in body
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="kim").exists()
    assert any(
        "sign-in with saml failed: the response's signature does not verify" in r.getMessage()
        for r in caplog.records
    )


def test_a_response_signed_with_another_key_is_refused(client, saml, tmp_path):
    key_file, cert_file = saml_idp.key_and_cert(tmp_path)
    impostor = saml_idp.SamlIdp(url=saml.url, key_file=key_file, cert_file=cert_file, metadata=b"")
    start = client.get("/saml2/login/")
    query = parse_qs(urlsplit(start["Location"]).query)
    xml = impostor.respond(
        sp_metadata=client.get("/saml2/metadata/").content.decode(),
        saml_request=query["SAMLRequest"][0],
        subject="kim-0001",
        identity=identity(["nexus-managers"]),
    )

    response = client.post("/saml2/acs/", {"SAMLResponse": saml.encode(xml)})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="kim").exists()


def test_saml_is_off_without_metadata(client, settings):
    settings.SAML_IDP_METADATA_URL = ""
    assert client.get("/saml2/login/").status_code == 404
    assert client.get("/saml2/acs/").status_code == 404
