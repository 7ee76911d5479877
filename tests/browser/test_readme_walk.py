"""The README's first walk, exactly as a newcomer does it after `make run`.

The demo data (`seed_demo`), the stand-ins as `make run` starts them, a real worker delivering
to them, and Chromium: sign in as `ic`, press `d`, declare a P0 on api-gateway, see its channel
on the Stand-ins page, drive it to Closed (booking the post-mortem meeting on the way), publish
a status update and see it on /status/, while a stakeholder in another browser watches the
timeline live without the internal notes.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from incidents.seed import DEMO_PASSWORD
from tests.support.browser_fixtures import TIMEOUT_MS, VIEWPORT, log_in
from tests.support.standins_process import demo_env
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.nexusops.standins_urls")]

LIVE_MS = 6_000  # the command page polls every 2 s
WORKER_MS = 30_000  # a delivery through the worker, the broker and a stand-in


@pytest.fixture
def demo_console(transactional_db, demo_settings, standins):
    """What `make run` has: the demo's data and a worker talking to the stand-ins."""
    demo_settings.INCIDENT_MONITORING_MINUTES = 0  # the walk does not wait 30 minutes
    with open("/dev/null", "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    base, var_dir = standins
    worker = WorkerProcess(
        extra_env={**demo_env(base, var_dir), "INCIDENT_MONITORING_MINUTES": "0"}
    ).start()
    try:
        worker.await_ready()
        yield
    finally:
        worker.stop()


def test_the_readme_walk(page, browser, live_server, demo_console):
    url = live_server.url
    log_in(page, live_server, "ic", DEMO_PASSWORD)

    # Press d, declare a P0 on api-gateway.
    page.goto(f"{url}/incidents/")
    page.keyboard.press("d")
    expect(page).to_have_url(f"{url}/incidents/declare/")
    page.get_by_label("Title").fill("API gateway returning 502s")
    page.locator("label.sev-option", has_text="P0").click()
    page.get_by_label("Affected services").select_option(["api-gateway"])
    page.get_by_role("button", name="Declare incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/INC-\d{8}-\d{3}/$"))
    incident_url = page.url
    number = incident_url.rstrip("/").rsplit("/", 1)[1]
    channel = "incident-" + number[4:].lower()
    header = page.locator("#incident-header")
    expect(header.locator(".pill")).to_have_text("Triggered")

    # The worker created #incident-YYYYMMDD-NNN in the Slack stand-in: the Stand-ins page shows it.
    standins = page.context.new_page()
    standins.goto(f"{url}/standins/")
    for _ in range(WORKER_MS // 1000):
        if channel in standins.locator("section", has_text="Slack").first.inner_text():
            break
        standins.wait_for_timeout(1000)
        standins.reload()
    expect(standins.locator("section", has_text="Slack").first).to_contain_text(channel)
    standins.close()

    # A stakeholder opens the incident in another browser.
    other = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-US")
    other.set_default_timeout(TIMEOUT_MS)
    watcher = other.new_page()
    try:
        log_in(watcher, live_server, "stakeholder", DEMO_PASSWORD)
        watcher.goto(incident_url)
        watched = watcher.locator("#incident-header .pill")
        expect(watched).to_have_text("Triggered")

        # An internal note: the stakeholder never sees it.
        page.get_by_label("Note").fill("Suspect the 14:02 config push")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#incident-timeline")).to_contain_text("Suspect the 14:02 config push")

        # Acknowledge → Investigating → Mitigated → Resolved, the stakeholder following live.
        for button, status in (
            ("Acknowledge", "Acknowledged"),
            ("Start investigating", "Investigating"),
            ("Mark mitigated", "Mitigated"),
            ("Resolve", "Resolved"),
        ):
            header.get_by_role("button", name=button, exact=True).click()
            expect(header.locator(".pill")).to_have_text(status)
            expect(watched).to_have_text(status, timeout=LIVE_MS)

        # Publish a status update from the command page; it is on the public /status/.
        page.locator("details.fold > summary", has_text="Status page").click()  # it folds
        publish = page.locator("#status-publish")
        publish.get_by_label("Stage").select_option("resolved")
        publish.locator("textarea[name=message]").fill("API requests are succeeding again.")
        publish.get_by_role("button", name="Publish update").click()
        expect(page.locator("#status-publish")).to_contain_text("Last published")
        public = other.new_page()
        public.goto(f"{url}/status/")
        expect(public.locator("body")).to_contain_text("API requests are succeeding again.")
        public.close()

        # The first public update changed the incident (its first-update clock): the command
        # page's live refresh brings the new version before the next move, as a person sees.
        expect(page.locator("#incident-timeline")).to_contain_text(
            "Status page (resolved)", timeout=LIVE_MS
        )
        # A P0 closes only once its post-mortem meeting is booked: book it, as the README says.
        header.get_by_role("button", name="Start monitoring").click()
        expect(header.locator(".pill")).to_have_text("Monitoring")
        page.goto(f"{url}/postmortems/{number}/")
        page.get_by_label("Date and time").fill("2030-01-15T10:00")
        page.get_by_label("Attendees").select_option(label=["Iris", "Ravi"])
        page.get_by_role("button", name="Schedule and invite").click()
        expect(page.locator("#pm-meeting")).to_contain_text("Scheduled for")
        page.goto(incident_url)
        header.get_by_role("button", name="Close", exact=True).click()
        expect(header.locator(".pill")).to_have_text("Closed")
        expect(watched).to_have_text("Closed", timeout=LIVE_MS)

        timeline = watcher.locator("#incident-timeline")
        expect(timeline).to_contain_text("Resolved: the issue is verified fixed.")
        expect(timeline).not_to_contain_text("Suspect the 14:02 config push")
    finally:
        other.close()
