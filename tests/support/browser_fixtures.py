"""Shared fixtures for browser tests: Debian's Chromium driven by Playwright's sync API.

A browser test marks itself ``pytestmark = pytest.mark.browser`` (the root conftest skips it
when /usr/bin/chromium is missing), takes ``page`` and ``live_server``, makes its own users
(``transactional_db`` empties the tables after every test) and signs in::

    def test_something(page, live_server, make_user, login):
        make_user("iris", roles.INCIDENT_COMMANDER, time_zone="America/Los_Angeles")
        login(page, live_server, "iris")
        page.get_by_role("link", name="Services").click()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

# Playwright's sync API keeps an asyncio event loop running in this (the main) thread for as
# long as the session-wide browser lives. Django sees that loop and refuses synchronous ORM
# calls from the thread ("SynchronousOnlyOperation"), which would break every test that
# creates rows, browser or not, once a browser has started. The tests are synchronous code
# that never shares a connection with the loop, so the check is safely switched off.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "browser-test-password"  # noqa: S105 - test users only
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@contextmanager
def fresh_page(browser, *, viewport: dict = VIEWPORT, timezone_id: str = "UTC") -> Iterator:  # noqa: ANN001
    """A page in a context of its own (no cookies), closed when the block ends."""
    context = browser.new_context(viewport=viewport, timezone_id=timezone_id, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A fresh context (no cookies) and page per test, 1280x800, in UTC."""
    with fresh_page(browser) as page:
        yield page


@pytest.fixture
def make_user(transactional_db) -> Callable[..., object]:
    """Create a user in a role group with a profile; the password is ``PASSWORD``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from incidents.models import Profile
    from nexusops.common.roles import roles_sync

    def make(
        username: str,
        role: str | None = None,
        *,
        time_zone: str = "UTC",
        first_name: str = "",
        **fields: object,
    ):
        roles_sync()  # the flush between transactional tests removes the groups
        user = get_user_model().objects.create_user(
            username, password=PASSWORD, first_name=first_name, **fields
        )
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        Profile.objects.create(user=user, time_zone=time_zone)
        return user

    return make


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Sign in through the login form and wait until the console has loaded."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def login() -> Iterator[Callable[..., None]]:
    """``login(page, live_server, username)``; a fixture so tests need no import."""
    yield log_in
