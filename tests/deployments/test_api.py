"""POST /api/deployments/ (CI token) and the ArgoCD notification webhook."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from deployments.models import DeployIntegration, Deployment, Status
from deployments.services import integration_create
from tests.factories import incident

from .helpers import SHA

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.deployments.urls_for_tests")]


@pytest.fixture
def tokens(world) -> dict:
    _, ci = integration_create(name="github-actions", source="ci", actor=None)
    _, argo = integration_create(name="argocd-prod", source="argocd", actor=None)
    return {"ci": ci, "argocd": argo}


def _client(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


BODY = {"services": ["user-service"], "version": "v3.10.1", "git_sha": SHA,
        "reviewers": ["alice"], "tests_passed": True, "security_scan": "passed",
        "k8s_revision": 44, "external_id": "run-1"}  # fmt: skip


def test_token_is_stored_hashed(tokens):
    row = DeployIntegration.objects.get(name="github-actions")
    assert tokens["ci"] not in (row.token_hash, row.token_hint) and len(row.token_hash) == 64


def test_ci_records_then_updates_by_external_id(tokens):
    response = _client(tokens["ci"]).post("/api/deployments/", BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "in_progress" and body["services"] == ["user-service"]
    d = Deployment.objects.get()
    assert d.source == "ci" and d.k8s_revision == 44 and d.integration.name == "github-actions"
    again = _client(tokens["ci"]).post(
        "/api/deployments/", {**BODY, "status": "failed"}, format="json"
    )
    assert again.status_code == 200 and Deployment.objects.get().status == Status.FAILED


@pytest.mark.parametrize("token", [None, "wrong-token", "argocd"])
def test_bad_token_is_401_and_records_nothing(tokens, token):
    token = tokens.get(token, token) if token else None
    response = _client(token).post("/api/deployments/", BODY, format="json")
    assert response.status_code == 401
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"services": ["nope"]}, "services"), ({"git_sha": "zzzz123"}, "git_sha"),
     ({"started_at": "2026-01-02T10:00:00Z", "finished_at": "2026-01-02T09:00:00Z",
       "status": "succeeded"}, "finished_at"),
     ({"kind": "hotfix", "labels": ["HOTFIX"], "reviewers": []}, "reviewers"),
     ({"incident": "INC-20990101-001"}, "incident")],
)  # fmt: skip
def test_bad_input_is_400_and_records_nothing(tokens, change, field):
    response = _client(tokens["ci"]).post("/api/deployments/", {**BODY, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Deployment.objects.exists()


def test_argocd_webhook(tokens):
    body = {"app": "user-service", "revision": SHA, "phase": "Running",
            "started_at": "2026-01-02T10:00:00Z"}  # fmt: skip
    first = _client(tokens["argocd"]).post("/api/deployments/argocd/", body, format="json")
    assert first.status_code == 201, first.content
    done = _client(tokens["argocd"]).post(
        "/api/deployments/argocd/",
        {**body, "phase": "Succeeded", "finished_at": "2026-01-02T10:05:00Z"}, format="json",
    )  # fmt: skip
    assert done.status_code == 200
    d = Deployment.objects.get()
    assert d.argocd_app == "user-service" and d.reported_status == Status.SUCCEEDED
    assert d.status == Status.IN_PROGRESS  # the checklist is not complete yet


@pytest.mark.parametrize("token", [None, "bad", "ci"])
def test_argocd_webhook_rejects_bad_token(tokens, token):
    token = tokens.get(token, token) if token else None
    body = {"app": "user-service", "revision": SHA, "phase": "Running"}
    response = _client(token).post("/api/deployments/argocd/", body, format="json")
    assert response.status_code == 401
    assert not Deployment.objects.exists()


def test_person_with_token_auth(world):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world['ic']).key}")
    assert client.post("/api/deployments/", BODY, format="json").status_code == 201
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world['stakeholder']).key}"
    )
    assert (
        client.post("/api/deployments/", {**BODY, "external_id": "x"}, format="json").status_code
        == 403
    )
    assert client.get("/api/deployments/").status_code == 200


def test_incident_page_partial_lists_recent_changes(world, client):
    from deployments.selectors import incident_changes_context

    from .helpers import record

    d = record(world["ic"], status="in_progress")
    inc = incident(services=("user-service",), severity_code="P1")
    context = incident_changes_context(incident=inc, user=world["ic"])
    assert [c.pk for c in context["changes"]] == [d.pk] and context["changes"][0].can_roll_back
    client.force_login(world["ic"])
    page = client.get(f"/incidents/{inc.number}/changes/")
    assert page.status_code == 200 and d.number in page.content.decode()
    assert "Roll back" in page.content.decode()
