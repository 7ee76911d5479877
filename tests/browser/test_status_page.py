"""An IC publishes a status page update; an anonymous visitor (no JavaScript) sees it."""

from __future__ import annotations

import pytest

from nexusops.common import roles

pytestmark = pytest.mark.browser


def test_ic_publishes_and_the_public_sees_it(page, browser, live_server, make_user, login):
    from incidents.models import Service
    from statuspage import senders
    from statuspage.models import Component
    from tests.factories import incident

    senders.register()  # StatuspageConfig.ready() did already; again is harmless
    make_user("iris", roles.INCIDENT_COMMANDER)
    inc = incident("Checkout errors", services=("api-gateway",))
    Component.objects.create(service=Service.objects.get(slug="api-gateway"), name="Public API")

    login(page, live_server, "iris")
    page.goto(f"{live_server.url}/status/publish/{inc.number}/")
    message = page.get_by_label("Message (public: no internal details)")
    assert "affecting Public API" in message.input_value()
    page.get_by_label("Stage").select_option("identified")
    assert message.input_value().startswith("We have identified the cause")  # template swapped
    message.fill("Checkout is failing for some customers; a fix is rolling out.")
    page.get_by_label("Public API").select_option("partial_outage")
    page.get_by_role("button", name="Publish update").click()
    page.get_by_text("Published “Identified” on the status page.").wait_for()

    visitor = browser.new_context(java_script_enabled=False, timezone_id="UTC")
    try:
        public = visitor.new_page()
        public.goto(f"{live_server.url}/status/")
        assert public.get_by_role("heading", name="Partial outage", exact=True).is_visible()
        assert public.get_by_text(
            "Checkout is failing for some customers; a fix is rolling out."
        ).is_visible()
        # The public title comes from the components, never the internal title.
        assert public.get_by_text("Checkout errors").count() == 0
        link = public.get_by_role("link", name="Partial outage: Public API")
        assert link.is_visible()
        link.click()
        public.wait_for_url(f"**/status/incidents/{inc.number}/")
        assert public.get_by_text("Identified").first.is_visible()
    finally:
        visitor.close()
