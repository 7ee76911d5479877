"""The webhooks answer past nothing but SecurityMiddleware (alerts/middleware.py): none of the
site's session, CSRF, login, lockout or page headers run for them; every other path does."""

import pytest

from .conftest import post

pytestmark = pytest.mark.django_db


def test_a_webhook_skips_the_sites_middleware(client, tokens):
    client.cookies["sessionid"] = "not-a-session"
    response = post(client, "generic", {"dedup_key": "mw", "title": "t"}, tokens["generic"])
    assert response.status_code == 202
    # Set by ContentSecurityPolicy and XFrameOptions middleware on every other answer.
    assert "Content-Security-Policy" not in response
    assert "X-Frame-Options" not in response
    assert "X-Content-Type-Options" in response  # SecurityMiddleware still ran
    assert response["X-Request-ID"]  # and so did the request context (id, log, metrics)
    assert response.wsgi_request.resolver_match.url_name == "alerts-ingest-generic"
    assert "Vary" not in response  # no session or user was looked at


def test_other_paths_keep_the_middleware(client):
    response = client.get("/api/alerts/groups/")
    assert response.status_code in (401, 403)
    assert "X-Frame-Options" in response
    assert "Content-Security-Policy" in response


def test_a_webhook_still_refuses_a_missing_token(client, tokens):
    response = post(client, "generic", {"dedup_key": "mw", "title": "t"}, None)
    assert response.status_code == 401
