"""The command page's panel and the runbook pages over HTTP (htmx and plain requests)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from nexusops.common import clock, roles
from remediation.models import ActionRun, IncidentScenario
from remediation.seed import seed_scenarios
from remediation.selectors import incident_panel_context
from tests.factories import UserFactory, incident

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ic():
    return UserFactory(username="ic-v", role=roles.INCIDENT_COMMANDER)


def test_panel_suggests_attaches_and_offers_one_click_runs(client, ic):
    seed_scenarios(lambda _: None)
    inc = incident(title="Too many connections on checkout", services=("user-service",))
    client.force_login(ic)
    url = f"/incidents/{inc.number}/remediation/"
    page = client.get(url, **HTMX).content.decode()
    assert 'data-suggested="db-connection-pool-exhausted"' in page

    page = client.post(f"{url}attach/", {"scenario": "db-connection-pool-exhausted"}, **HTMX)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-scenario="db-connection-pool-exhausted"' in html
    assert 'data-action="pg.connections"' in html
    assert IncidentScenario.objects.filter(incident=inc).count() == 1


def test_request_errors_come_back_in_the_panel(client, ic, settings):
    settings.KUBERNETES_API_URL = ""
    settings.KUBECONFIG = ""
    inc = incident()
    client.force_login(ic)
    response = client.post(
        "/remediation/runs/", {"incident": inc.number, "action": "k8s.pods"}, **HTMX
    )
    assert response.status_code == 400
    assert "not configured: set KUBERNETES_API_URL or KUBECONFIG" in response.content.decode()


def test_another_user_approves_from_the_panel(client, ic):
    inc = incident()
    other = UserFactory(username="mgr-v", role=roles.MANAGER)
    run = ActionRun.objects.create(
        action="redis.flushdb", params={}, dangerous=True, incident=inc,
        state=ActionRun.State.AWAITING_APPROVAL, requested_by=ic, requested_at=clock.now(),
        approval_expires_at=clock.now() + dt.timedelta(minutes=30), preview="FLUSHDB on x",
    )  # fmt: skip
    client.force_login(ic)
    mine = client.get(f"/incidents/{inc.number}/remediation/", **HTMX).content.decode()
    assert f'data-approve="{run.pk}"' not in mine and "Withdraw" in mine
    client.force_login(other)
    theirs = client.get(f"/incidents/{inc.number}/remediation/", **HTMX).content.decode()
    assert f'data-approve="{run.pk}"' in theirs and 'hx-trigger="every 2s"' in theirs
    response = client.post(f"/remediation/runs/{run.pk}/approve/", **HTMX)
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.state == ActionRun.State.QUEUED and run.decided_by == other


def test_panel_include_renders_from_the_context_dict(ic):
    inc = incident()
    request = RequestFactory().get("/")
    request.user = ic
    html = render_to_string(
        "remediation/_incident_panel.html",
        {"remediation": incident_panel_context(incident=inc, user=ic), "incident": inc},
        request=request,
    )
    assert 'id="remediation-panel"' in html


def test_runbook_pages(client):
    seed_scenarios(lambda _: None)
    manager = UserFactory(username="mgr-r", role=roles.MANAGER)
    client.force_login(manager)
    listing = client.get("/runbooks/").content.decode()
    assert "Platform down" in listing and 'data-action="aws.pg_backup"' in listing
    detail = client.get("/runbooks/platform-down/").content.decode()
    assert "<code>kubectl get pods -n nexus-production</code>" in detail


def test_command_page_loads_the_panel_for_internal_roles_only(client, ic):
    """The command page's own ``perms`` dict must not hide the panel from those who see it."""
    inc = incident()
    panel = f'hx-get="/incidents/{inc.number}/remediation/"'
    client.force_login(ic)
    assert panel in client.get(f"/incidents/{inc.number}/").content.decode()
    client.force_login(UserFactory(username="sh-v", role=roles.STAKEHOLDER))
    assert panel not in client.get(f"/incidents/{inc.number}/").content.decode()


def test_steps_read_diagnosis_resolution_then_follow_up(client, ic):
    from remediation.models import Scenario, ScenarioStep

    scenario = Scenario.objects.create(slug="order-s", title="Order", section="9.9", symptoms="x")
    kinds = ScenarioStep.Kind
    rows = [(kinds.FOLLOW_UP, "third-step"), (kinds.RESOLUTION, "second-step"),
            (kinds.DIAGNOSIS, "first-step")]  # fmt: skip
    for n, (kind, text) in enumerate(rows):
        ScenarioStep.objects.create(scenario=scenario, kind=kind, order=n, text=text)
    client.force_login(ic)
    page = client.get("/runbooks/order-s/").content.decode()
    assert page.index("first-step") < page.index("second-step") < page.index("third-step")
    inc = incident()
    client.post(f"/incidents/{inc.number}/remediation/attach/", {"scenario": "order-s"}, **HTMX)
    panel = client.get(f"/incidents/{inc.number}/remediation/", **HTMX).content.decode()
    assert panel.index("first-step") < panel.index("second-step") < panel.index("third-step")


def test_a_rejected_run_says_why_in_the_panel(client, ic):
    inc = incident()
    ActionRun.objects.create(
        action="ebs.resize", params={"volume": "vol-12345678", "size_gib": 50}, dangerous=True,
        incident=inc, state=ActionRun.State.REJECTED, requested_by=ic, requested_at=clock.now(),
        error="vol-12345678 is 100 GiB: a volume only grows (asked 50 GiB)",
    )  # fmt: skip
    client.force_login(ic)
    panel = client.get(f"/incidents/{inc.number}/remediation/", **HTMX).content.decode()
    assert 'role="alert">vol-12345678 is 100 GiB: a volume only grows (asked 50 GiB)<' in panel
