"""Issue 18's "done when", in Chromium: sign in through NEXUS SSO (the demo's identity
provider, a real django-oauth-toolkit process) as a commander, land on the incident list as
Incident Commander; moved to the stakeholders' group at the provider, the next sign-in makes
a Stakeholder."""

from __future__ import annotations

import pytest

from nexusops.common.roles import roles_sync
from nexusops.standins import idp

pytestmark = pytest.mark.browser
ROLE = ".badge.role"


def test_a_commander_signs_in_through_nexus_sso_and_a_regroup_changes_the_role(
    page, live_server, nexus_sso, transactional_db
):
    roles_sync()  # the flush between transactional tests removes the role groups
    nexus_sso.client(f"{live_server.url}/accounts/sso/nexus/callback/")

    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("link", name="Sign in with NEXUS SSO").click()
    # Now on the provider's own page, another origin.
    page.wait_for_url(f"{nexus_sso.origin}/accounts/login/**")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(idp.PASSWORD)
    page.get_by_role("button", name="Continue to NexusOps").click()

    page.wait_for_url(f"{live_server.url}/incidents/")
    assert page.locator(ROLE).inner_text() == "Incident Commander"

    nexus_sso.person("casey", "nexus-stakeholders")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    page.get_by_role("link", name="Sign in with NEXUS SSO").click()
    # Still signed in at the provider: it sends the browser straight back.
    page.wait_for_url(f"{live_server.url}/incidents/")
    assert page.locator(ROLE).inner_text() == "Stakeholder"
