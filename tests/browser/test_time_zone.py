"""A person's time zone in Chromium: taken from the browser once, then changed on the profile."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Profile
from nexusops.common import roles
from tests.support.browser_fixtures import fresh_page

pytestmark = pytest.mark.browser

UTC_TITLE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")


@pytest.fixture
def tokyo_page(browser):
    with fresh_page(browser, timezone_id="Asia/Tokyo") as page:
        yield page


def test_a_new_person_gets_the_browsers_zone_after_the_first_page(
    tokyo_page, live_server, make_user, login
):
    page = tokyo_page
    make_user("sam", roles.STAKEHOLDER, time_zone="")  # never chose one
    with page.expect_response(lambda r: r.url.endswith("/profile/browser-time-zone/")) as sent:
        login(page, live_server, "sam")
    assert sent.value.status == 204
    assert Profile.objects.get(user__username="sam").time_zone == "Asia/Tokyo"

    page.locator("header.topbar a.user").click()
    page.wait_for_url(f"{live_server.url}/profile/")
    now = page.locator("form time")
    expect(now).to_have_text(re.compile(r" JST$"))
    expect(now).to_have_attribute("title", UTC_TITLE)
    # Known now, so the page no longer asks.
    assert page.locator('meta[name="browser-time-zone-url"]').count() == 0

    # The person's own choice wins, and the browser does not override it afterwards.
    page.get_by_label("Time zone").fill("America/Los_Angeles")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator(".flash, .messages").first).to_contain_text("America/Los_Angeles")
    expect(page.locator("form time")).to_have_text(re.compile(r" P[SD]T$"))
    page.goto(f"{live_server.url}/incidents/")
    assert Profile.objects.get(user__username="sam").time_zone == "America/Los_Angeles"


def test_a_chosen_zone_is_not_replaced_by_the_browsers(tokyo_page, live_server, make_user, login):
    make_user("iris", roles.INCIDENT_COMMANDER, time_zone="Europe/Berlin")
    login(tokyo_page, live_server, "iris")
    tokyo_page.goto(f"{live_server.url}/profile/")
    assert tokyo_page.locator('script[src$="timezone.js"]').count() == 0
    expect(tokyo_page.locator("form time")).to_have_text(re.compile(r" CES?T$"))
    assert Profile.objects.get(user__username="iris").time_zone == "Europe/Berlin"
