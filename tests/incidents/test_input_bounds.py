"""Issue 14 items 4 and 5: out-of-range dates and numbers are a 400 naming the field, never 500.

Every surface that takes the value is tried: the API's POST and PATCH, the HTML declare and edit
forms, the list filters, and the deployment intake.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.models import Incident
from nexusops.common import roles
from tests.factories import ServiceFactory, UserFactory, incident, severities

pytestmark = pytest.mark.django_db

BAD_NUMBERS = [
    ("impact_users", 2147483648),
    ("impact_users", -1),
    ("impact_percent", "1e400"),
    ("impact_percent", "NaN"),
    ("impact_percent", "-0.5"),
]


@pytest.fixture
def ic():
    severities()
    ServiceFactory(slug="api-gateway")
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def api(ic) -> APIClient:
    client = APIClient()
    client.force_authenticate(ic)
    return client


def _field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()


@pytest.mark.parametrize("detected_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_api_declare_refuses_a_detected_at_outside_the_window(api, detected_at):
    response = api.post(
        "/api/incidents/",
        {"title": "Checkout down", "severity": "P1", "detected_at": detected_at},
        format="json",
    )
    _field_error(response, "detected_at")
    assert not Incident.objects.exists()


def test_api_declare_takes_a_recent_detected_at(api):
    response = api.post(
        "/api/incidents/",
        {"title": "Checkout down", "severity": "P1", "detected_at": "2020-05-01T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(("field", "value"), BAD_NUMBERS)
def test_api_declare_and_patch_refuse_out_of_range_numbers(api, ic, field, value):
    response = api.post(
        "/api/incidents/", {"title": "Down", "severity": "P1", field: value}, format="json"
    )
    _field_error(response, field)
    assert not Incident.objects.exists()

    inc = incident(actor=ic)
    response = api.patch(f"/api/incidents/{inc.number}/", {field: value}, format="json")
    _field_error(response, field)


@pytest.mark.parametrize(("field", "value"), BAD_NUMBERS)
def test_html_declare_and_edit_refuse_out_of_range_numbers(client, ic, field, value):
    client.force_login(ic)
    response = client.post(
        reverse("incident-declare"), {"title": "Down", "severity": "P1", field: value}
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()

    inc = incident(actor=ic)
    response = client.post(
        reverse("incident-edit", args=[inc.number]),
        {"version": inc.version, field: value},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    inc.refresh_from_db()
    assert inc.impact_users is None and inc.impact_percent is None


def test_list_filters_refuse_year_one(api, client, ic):
    response = api.get("/api/incidents/", {"detected_from": "0001-01-01"})
    _field_error(response, "detected_from")
    client.force_login(ic)
    page = client.get(reverse("incident-list"), {"detected_to": "0001-01-01"})
    assert page.status_code == 200  # an unparsable filter is dropped, the page still shows


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "0001-01-01T00:00:00Z"),
        ("finished_at", "9999-01-01T00:00:00Z"),
        ("k8s_revision", 2147483648),
        ("backup_run", -5),
    ],
)
def test_deployment_intake_bounds_its_dates_and_numbers(ic, field, value):
    ci = UserFactory(username="ci-bot", role=roles.INCIDENT_COMMANDER)
    api = APIClient()
    api.force_authenticate(ci)
    body = {"services": ["api-gateway"], "version": "v1.2.3", "git_sha": "a" * 40, field: value}
    _field_error(api.post("/api/deployments/", body, format="json"), field)
