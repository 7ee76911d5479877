"""Issue 14 item 11: a Content-Security-Policy without inline scripts, and a console that still
works under it (htmx, the console's own scripts), tried in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nexusops.common import roles
from tests.factories import incident

pytestmark = pytest.mark.browser


def test_the_console_works_and_an_injected_inline_script_does_not_run(
    page, live_server, make_user, login
):
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    make_user("iris", roles.INCIDENT_COMMANDER)
    incident(title="Checkout failing")
    incident(title="Search slow")
    login(page, live_server, "iris")

    # htmx and the console's own scripts load and work under the policy.
    assert page.evaluate("typeof htmx") == "object"
    expect(page.locator("main").get_by_text("Search slow")).to_be_visible()
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox").press_sequentially("Checkout")
    listing = page.locator("main")
    expect(listing.get_by_text("Checkout failing")).to_be_visible()
    expect(listing.get_by_text("Search slow")).to_have_count(0)  # htmx filtered the list
    assert violations == []

    # What an XSS would try: an inline <script>, an on* attribute, and a script htmx swaps in.
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.pwnedByScript = true";
            document.body.appendChild(s);
            const d = document.createElement("div");
            d.innerHTML = '<img src="data:," onerror="window.pwnedByHandler = true">';
            document.body.appendChild(d);
            const h = document.createElement("div");
            document.body.appendChild(h);
            htmx.swap(h, "<script>window.pwnedByHtmx = true<\\/script>", {swapStyle: "innerHTML"});
        }"""
    )
    page.wait_for_timeout(300)  # let the image error fire (it does not need the network)
    pwned = page.evaluate("[window.pwnedByScript, window.pwnedByHandler, window.pwnedByHtmx]")
    assert pwned == [None, None, None]
    assert violations, "the browser should report the blocked inline scripts"
