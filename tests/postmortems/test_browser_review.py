"""In Chromium: a manager approves and publishes a post-mortem, and a stakeholder reads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nexusops.common import roles
from postmortems.models import PostMortem
from postmortems.services import postmortem_submit, postmortem_update
from tests.postmortems.helpers import resolved
from tests.support.browser_fixtures import TIMEOUT_MS, VIEWPORT

pytestmark = pytest.mark.browser


def test_manager_approves_and_a_stakeholder_reads(page, browser, live_server, make_user, login):
    iris = make_user("iris", roles.INCIDENT_COMMANDER, first_name="Iris")
    make_user("mona", roles.MANAGER, first_name="Mona")
    make_user("sam", roles.STAKEHOLDER, first_name="Sam")
    inc = resolved("P1", actor=iris, title="Checkout failing for EU users")
    pm = PostMortem.objects.get(incident=inc)
    postmortem_update(
        postmortem=pm,
        actor=iris,
        expected_version=pm.version,
        data={"summary": "EU checkout failed.", "root_cause": "A config push broke routing."},
    )
    postmortem_submit(postmortem=pm, actor=iris)
    url = f"{live_server.url}/postmortems/{inc.number}/"

    login(page, live_server, "mona")
    page.goto(url)
    expect(page.locator("#pm-status")).to_have_text("In review")
    page.get_by_label("Review comment").fill("Clear root cause; good action items.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#pm-status")).to_have_text("Approved")
    expect(page.locator("#pm-workflow")).to_contain_text("Clear root cause")
    page.get_by_role("button", name="Publish to stakeholders").click()
    expect(page.locator("#pm-workflow")).to_contain_text("Stakeholders read revision 1")

    other = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-US")
    other.set_default_timeout(TIMEOUT_MS)
    reader = other.new_page()
    try:
        login(reader, live_server, "sam")
        reader.goto(f"{live_server.url}/postmortems/")
        reader.get_by_role("link", name=inc.number).click()
        expect(reader.locator("#pm-status")).to_have_text("Published")
        expect(reader.locator("#pm-document")).to_contain_text("A config push broke routing.")
        expect(reader.locator(".pm-header")).to_contain_text("approved by Mona")
        expect(reader.locator("#pm-timeline")).to_contain_text("Resolved: the issue is verified")
        # Read-only: no review, edit or action-item forms.
        expect(reader.get_by_role("button", name="Approve")).to_have_count(0)
        expect(reader.get_by_role("link", name="Edit")).to_have_count(0)
        expect(reader.locator("form[method=post]:not(.logout)")).to_have_count(0)
    finally:
        other.close()
