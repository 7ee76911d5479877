"""The scenario page's Checks card: the SaaS health checks run from it against the stand-ins
over real HTTP, and their latest result stays on the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nexusops.common import roles
from nexusops.standins import sendgrid_api
from nexusops.standins.common import run_in_thread
from nexusops.standins.control import StandinControl
from remediation.models import ActionRun, ScenarioStep
from remediation.seed import seed_scenarios
from remediation.services.execute import action_execute
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sendgrid(settings) -> Iterator[StandinControl]:
    server, app = sendgrid_api.make_server()
    run_in_thread(server)
    sendgrid_api.seed_demo(app)
    settings.SENDGRID_API_URL = server.base_url
    settings.SENDGRID_API_KEY = sendgrid_api.DEMO_KEY
    yield StandinControl(server.base_url)
    server.shutdown()
    server.server_close()


def test_the_email_scenario_runs_its_sendgrid_check_and_shows_the_result(client, sendgrid):
    seed_scenarios(lambda _: None)
    client.force_login(UserFactory(username="mgr-c", role=roles.MANAGER))
    page = client.get("/runbooks/email-delivery-issues/").content.decode()
    assert 'data-action="saas.sendgrid_health"' in page and "Not run yet." in page
    step = ScenarioStep.objects.get(
        scenario__slug="email-delivery-issues", action="saas.sendgrid_health"
    )

    client.post(
        "/remediation/runs/", {"action": "saas.sendgrid_health", "step": step.pk, "p_days": "1"}
    )
    run = ActionRun.objects.get(step=step)
    action_execute(run_id=run.pk)  # what the worker does

    page = client.get("/runbooks/email-delivery-issues/").content.decode()
    assert "bounce rate 5.2% is above 5.0%" in page
    assert [r["path"] for r in sendgrid.received()] == ["/v3/scopes", "/v3/stats"]


def test_bad_parameters_are_refused_before_any_call(client, sendgrid):
    seed_scenarios(lambda _: None)
    client.force_login(UserFactory(username="mgr-d", role=roles.MANAGER))
    client.post("/remediation/runs/", {"action": "saas.sendgrid_health", "p_days": "400"})
    client.post("/remediation/runs/", {"action": "saas.stripe_health", "p_hours": "-1"})
    client.post("/remediation/runs/", {"action": "mongo.backup_to_s3", "p_database": "admin"})
    assert ActionRun.objects.count() == 0
    assert sendgrid.received() == []
