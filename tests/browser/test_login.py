"""Signing in and out through Chromium: every role sees the console shell and its badge."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from nexusops.common import navigation, roles
from tests.factories import incident

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "role",
    [roles.INCIDENT_COMMANDER, roles.RESPONDER, roles.MANAGER, roles.STAKEHOLDER],
)
def test_each_role_signs_in_and_sees_the_navigation_and_its_badge(
    page, live_server, make_user, login, role
):
    make_user("pat", role, first_name="Pat", time_zone="America/Los_Angeles")
    incident(title="Checkout failing")
    login(page, live_server, "pat")

    # The console opens on the incident list.
    assert page.url == f"{live_server.url}/incidents/"
    topbar = page.locator("header.topbar")
    expect(topbar.locator(".badge.role")).to_have_text(role)
    expect(topbar.locator(".user")).to_have_text("Pat")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Services")).to_have_attribute("href", "/services/")
    # Every runbook section is listed: a link once an app registers it, until then disabled.
    registered = {entry.key: entry for entry in navigation.entries()}
    pat = get_user_model().objects.get(username="pat")
    for key, label, _ in navigation.PLANNED:
        entry = registered.get(key)
        if entry is not None and entry.permission and not pat.has_perm(entry.permission):
            expect(nav.get_by_role("link", name=label)).to_have_count(0)  # not for this role
        elif entry is not None:
            expect(nav.get_by_role("link", name=label)).to_be_visible()
        else:
            item = nav.get_by_text(label, exact=True)
            expect(item).to_have_attribute("title", "not available yet")
            expect(item).to_have_attribute("aria-disabled", "true")
    # Admin is for staff only, and this user is not staff.
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    # Times are shown in the user's zone, UTC on hover.
    detected = page.locator("td:not(.sla) time").last
    expect(detected).to_have_text(re.compile(r" P[SD]T$"))
    expect(detected).to_have_attribute("title", re.compile(r" UTC$"))
    # htmx is served by django-htmx (no CDN) and the stylesheet is applied.
    assert page.evaluate("typeof htmx") == "object"
    assert topbar.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(17, 24, 39)"

    nav.get_by_role("link", name="Services").click()
    expect(page).to_have_url(f"{live_server.url}/services/")
    expect(nav.get_by_role("link", name="Services")).to_have_attribute("aria-current", "page")


def test_staff_see_the_admin_link(page, live_server, make_user, login):
    make_user("maya", roles.MANAGER, is_staff=True)
    login(page, live_server, "maya")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin")).to_have_attribute("href", "/admin/")


def test_a_wrong_password_shows_an_error_and_stays_signed_out(page, live_server, make_user):
    make_user("ravi", roles.RESPONDER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("ravi")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_label("Username")).to_have_value("ravi")
    expect(page.locator(".badge.role")).to_have_count(0)


def test_an_empty_form_names_the_missing_fields(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".field-error")).to_have_count(2)
    expect(page.locator(".field-error").first).to_have_text("This field is required.")


def test_logout_returns_to_the_login_page(page, live_server, make_user, login):
    make_user("sam", roles.STAKEHOLDER)
    login(page, live_server, "sam")
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to NexusOps")).to_be_visible()
    # The session is gone: the console asks for a login again.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_an_anonymous_visit_redirects_to_login_and_back(page, live_server, make_user, login):
    make_user("iris", roles.INCIDENT_COMMANDER)
    page.goto(f"{live_server.url}/services/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/services/")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)

    page.get_by_label("Username").fill("iris")
    page.get_by_label("Password").fill("browser-test-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/services/")


def test_anonymous_root_redirects_to_login(page, live_server):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_on_a_phone_the_navigation_folds_behind_a_menu_button(page, live_server, make_user, login):
    make_user("ravi", roles.RESPONDER)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "ravi")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Services")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
