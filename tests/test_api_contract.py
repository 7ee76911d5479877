"""Issue 14 item 13: the API keeps the contract its OpenAPI schema states (schemathesis).

Every operation in /api/schema/ is called with generated input through the real WSGI stack, as
a signed-in incident commander. Two checks must hold for every call: no 5xx, and every status
code the API answers is documented for that operation. Bounded so CI stays quick on two cores:
a fixed number of examples per operation, derandomized (a fixed seed), no shrinking.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from nexusops.common import roles
from tests.factories import ServiceFactory, UserFactory, incident, severities

pytestmark = [pytest.mark.contract, pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 12


def _schema() -> dict:
    # The same document /api/schema/ serves, generated in-process: collection has no database.
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_schema())
schema.app = get_wsgi_application()
schema.location = "/api/schema/"


@pytest.fixture
def token(settings):  # noqa: ANN001, ANN201 - pytest-django's settings
    # Django's WSGI handler closes old connections as a request starts and finishes, which
    # would end the test's transaction; Django's own test client unhooks the same two.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Throttling is tested elsewhere; here it would only turn generated calls into 429s.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    severities()
    ServiceFactory(slug="api-gateway")
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    incident(title="Checkout failing", actor=ic)
    yield Token.objects.create(user=ic).key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, status_code_conformance],
    )


def test_the_schema_documents_what_the_api_does():
    paths = _schema()["paths"]
    patch = paths["/api/incidents/{number}/"]["patch"]["responses"]
    assert {"409", "412", "428"} <= set(patch)
    for listing in ("/api/incidents/", "/api/deployments/", "/api/alerts/groups/"):
        assert "404" in paths[listing]["get"]["responses"], listing
    # The incident list and an incident's timeline page by cursor, with a bounded count.
    for listing in ("/api/incidents/", "/api/incidents/{number}/timeline/"):
        operation = paths[listing]["get"]
        assert {"cursor", "page_size"} <= {p["name"] for p in operation["parameters"]}, listing
        assert "page" not in {p["name"] for p in operation["parameters"]}, listing
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = _schema()["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(page["required"]) == {"count", "count_exact", "next", "previous", "results"}
    body = paths["/api/deployments/"]["post"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[1]
    required = _schema()["components"]["schemas"][ref]["required"]
    assert {"services", "version", "git_sha"} <= set(required)


def test_out_of_range_page_and_unknown_checklist_key_answer_the_json_404(token, client):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    number = client.get("/api/incidents/", **headers).json()["results"][0]["number"]
    response = client.get("/api/deployments/?page=99", **headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # The incident list pages by cursor: a cursor it did not give out is bad input.
    response = client.get("/api/incidents/?cursor=99", **headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = client.get(f"/api/incidents/{number}/timeline/?cursor=99", **headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = client.post(
        f"/api/incidents/{number}/checklist/no-such-key/",
        {"done": True},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
