import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from nexusops.common import roles
from tests.factories import UserFactory, severities

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_token_authentication_from_drf_create_token():
    UserFactory(username="bot", role=roles.RESPONDER)
    call_command("drf_create_token", "bot", stdout=open("/dev/null", "w"))
    token = Token.objects.get(user__username="bot").key
    client = APIClient()
    assert client.get("/api/me/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {"username": "bot", "role": roles.RESPONDER, "time_zone": "UTC"}


def test_errors_share_one_body_shape():
    client = APIClient()
    body = client.get("/api/me/").json()
    assert body == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }
    client.force_authenticate(UserFactory(role=roles.STAKEHOLDER))
    body = client.get("/api/nothing-here/")
    assert body.status_code == 404


def test_lists_are_paginated():
    severities()
    client = APIClient()
    client.force_authenticate(UserFactory(role=roles.STAKEHOLDER))
    body = client.get("/api/services/").json()
    assert set(body) == {"count", "next", "previous", "results"}


def test_openapi_schema_and_swagger_ui_are_served_without_a_cdn(client):
    client.force_login(UserFactory(role=roles.STAKEHOLDER))
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
