"""The public page: banner, components, active incidents, 90-day history, query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from nexusops.common import clock
from statuspage import selectors
from statuspage.events import MaintenanceNotice, ScheduledMaintenance
from statuspage.models import Component, PublicUpdate
from statuspage.services import public_update_publish
from tests.factories import incident
from tests.support.events import extra_handler

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
# components, the history aggregate, severities, active incidents, their public updates
QUERY_BOUND = 6  # incl. one for scheduled maintenance from the deployments app


def _day_classes(html: str, component_name: str) -> dict[str, str]:
    """{YYYY-MM-DD: severity code or ""} for one component's history bar."""
    block = html.split(f'aria-label="{component_name}:', 1)[1].split("</div>", 1)[0]
    cells = re.findall(r'class="sp-day(?: sev-(P\d))?"[^>]*data-day="([\d-]+)"', block)
    return {day: sev for sev, day in cells}


def test_history_colours_the_right_days(client, components):
    with clock.frozen(NOW):
        # Detected 10 days ago late in the UTC day, and 3 days ago twice (P2 then P0).
        incident(
            "Slow API",
            "P2",
            services=("api-gateway",),
            detected_at=NOW - dt.timedelta(days=10, hours=-11, minutes=-30),
        )
        incident("Slow API again", "P2", ("api-gateway",), detected_at=NOW - dt.timedelta(days=3))
        incident(
            "API down",
            "P0",
            ("api-gateway", "auth-service"),
            detected_at=NOW - dt.timedelta(days=3, hours=2),
        )
        incident("Old one", "P1", ("api-gateway",), detected_at=NOW - dt.timedelta(days=95))
        incident("Today", "P3", ("auth-service",), detected_at=NOW - dt.timedelta(hours=1))
        response = client.get(reverse("status-page"))

    html = response.content.decode()
    api = _day_classes(html, "API")
    login = _day_classes(html, "Login")
    uploads = _day_classes(html, "Uploads")
    assert len(api) == len(login) == len(uploads) == 90
    assert min(api) == "2025-04-02" and max(api) == "2025-06-30"
    assert {d: s for d, s in api.items() if s} == {"2025-06-20": "P2", "2025-06-27": "P0"}
    assert {d: s for d, s in login.items() if s} == {"2025-06-27": "P0", "2025-06-30": "P3"}
    assert not any(uploads.values())


def test_history_day_is_the_utc_day():
    from incidents.models import Service

    with clock.frozen(NOW):
        incident(
            "Late",
            "P1",
            ("api-gateway",),
            detected_at=dt.datetime(2025, 6, 28, 23, 59, tzinfo=dt.UTC),
        )
    service = Service.objects.get(slug="api-gateway")
    history = selectors.history_by_service(service_ids=[service.pk], today=NOW.date())
    assert history == {service.pk: {dt.date(2025, 6, 28): "P1"}}


def test_banner_components_and_active_incidents(client, components, ic):
    response = client.get(reverse("status-page"))
    assert "All systems operational" in response.content.decode()

    inc = incident("Login failures", services=("auth-service",))
    quiet = incident("Internal only, never published", services=("auth-service",))
    public_update_publish(
        incident=inc,
        actor=ic,
        stage="investigating",
        message="Some people cannot sign in.",
        component_statuses={"auth-service": "partial_outage"},
        title="Login failures",
    )
    public_update_publish(incident=inc, actor=ic, stage="identified", message="Bad config.")
    response = client.get(reverse("status-page"))
    html = response.content.decode()
    assert "<h1>Partial outage</h1>" in html
    assert 'class="sp-status status-partial_outage">Partial outage' in html
    assert "Login failures" in html and quiet.title not in html
    assert html.index("Bad config.") < html.index("Some people cannot sign in.")

    detail = client.get(reverse("status-incident", args=[inc.number]))
    assert detail.status_code == 200 and "Bad config." in detail.content.decode()
    assert client.get(reverse("status-incident", args=[quiet.number])).status_code == 404

    type(inc).objects.filter(pk=inc.pk).update(status="closed")
    assert "Login failures" not in client.get(reverse("status-page")).content.decode()


def test_scheduled_maintenance_comes_from_the_apps_that_answer(client, components):
    def provider(question):
        now = question.now
        return [
            MaintenanceNotice(
                title="Database maintenance",
                starts_at=now + dt.timedelta(days=7),
                ends_at=now + dt.timedelta(days=7, hours=2),
                components=["API"],
            )
        ]

    html = client.get(reverse("status-page")).content.decode()
    assert "No maintenance is scheduled" in html
    with extra_handler(ScheduledMaintenance, provider):
        html = client.get(reverse("status-page")).content.decode()
    assert "Database maintenance" in html


def _make_published(n: int) -> None:
    for i in range(n):
        slug = f"svc-{i % 6}"
        inc = incident(f"Incident {i}", ["P0", "P1", "P2", "P3"][i % 4], (slug,))
        if not Component.objects.filter(service__slug=slug).exists():
            Component.objects.create(service=inc.services.get(), name=f"Component {slug}")
        PublicUpdate.objects.create(
            incident=inc, stage="investigating", message=f"Update {i}", published_at=clock.now()
        )
        PublicUpdate.objects.create(
            incident=inc, stage="identified", message=f"More {i}", published_at=clock.now()
        )


@pytest.mark.parametrize("count", [3, 30])
def test_status_page_query_count_does_not_grow(client, django_assert_max_num_queries, count):
    _make_published(count)
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(reverse("status-page"))
    assert response.status_code == 200
    assert response.content.decode().count('class="sp-incident ') == count
