"""An incident driven through its lifecycle in Chromium while a stakeholder watches live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from nexusops.common import roles
from tests.factories import ServiceFactory, severities
from tests.support.browser_fixtures import TIMEOUT_MS, VIEWPORT

pytestmark = pytest.mark.browser

LIVE_MS = 5_000  # the page polls every 2 s; a change must show within a few seconds


def test_ic_drives_a_p1_while_a_stakeholder_watches_live(
    page, browser, live_server, make_user, login
):
    make_user("iris", roles.INCIDENT_COMMANDER, first_name="Iris")
    make_user("sam", roles.STAKEHOLDER, first_name="Sam")
    severities()
    ServiceFactory(slug="api-gateway", name="API gateway")
    ServiceFactory(slug="user-service", name="User service")

    # The IC opens the console and declares with the "d" shortcut.
    login(page, live_server, "iris")
    expect(page).to_have_url(f"{live_server.url}/incidents/")
    page.keyboard.press("d")
    expect(page).to_have_url(f"{live_server.url}/incidents/declare/")
    # An empty title is refused next to the field, and nothing is declared.
    page.get_by_role("button", name="Declare incident").click()
    expect(page.locator("#declare-form .field-error").first).to_contain_text("required")
    page.get_by_label("Title").fill("Checkout <b>failing</b> for EU users")
    page.locator("label.sev-option", has_text="P1").click()
    page.get_by_label("Affected services").select_option(["api-gateway"])
    page.get_by_role("button", name="Declare incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-\d{8}-\d{3}/$"))
    incident_url = page.url
    header = page.locator("#incident-header")
    expect(header.get_by_role("heading", level=1)).to_have_text(
        "Checkout <b>failing</b> for EU users"
    )
    expect(header.locator(".pill")).to_have_text("Triggered")
    expect(header.locator(".sla-due")).to_contain_text("first update due in")

    # A stakeholder opens the same incident in another browser context.
    other = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-US")
    other.set_default_timeout(TIMEOUT_MS)
    watcher = other.new_page()
    try:
        login(watcher, live_server, "sam")
        watcher.goto(incident_url)
        watched_header = watcher.locator("#incident-header")
        expect(watched_header.locator(".pill")).to_have_text("Triggered")
        expect(watcher.locator("#incident-timeline")).to_contain_text("Declared P1")
        # Read-only: no transition buttons, no checklist, no forms beyond the filter/logout.
        expect(watcher.locator("[hx-post]")).to_have_count(0)
        expect(watcher.get_by_role("button", name="Acknowledge")).to_have_count(0)
        expect(watcher.locator("#incident-steps")).to_have_count(0)
        expect(watcher.get_by_role("link", name="Declare incident")).to_have_count(0)

        steps = [
            ("Acknowledge", "Acknowledged", "Acknowledged"),
            ("Start investigating", "Investigating", "Investigating: assessing"),
            ("Mark mitigated", "Mitigated", "Mitigated: a fix"),
            ("Resolve", "Resolved", "Resolved: the issue is verified fixed."),
        ]
        for button, status, event in steps:
            header.get_by_role("button", name=button, exact=True).click()
            expect(header.locator(".pill")).to_have_text(status)
            # The newest status change (other apps may add events after it, e.g. a post-mortem).
            expect(page.locator("#incident-timeline .ev-status_changed").first).to_contain_text(
                event
            )
            # The stakeholder's page follows without a reload.
            expect(watched_header.locator(".pill")).to_have_text(status, timeout=LIVE_MS)
            expect(watcher.locator("#incident-timeline .ev-status_changed").first).to_contain_text(
                event, timeout=LIVE_MS
            )
        expect(watcher.locator("[hx-post]")).to_have_count(0)
        expect(header.get_by_role("button", name="Start monitoring")).to_be_visible()
        expect(page.locator("#command-messages")).to_contain_text("is now resolved")
    finally:
        other.close()
