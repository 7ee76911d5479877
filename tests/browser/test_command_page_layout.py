"""The command page read at a glance (issue 16 item 5), in Chromium at 1400x900.

What a commander acts on sits in the first viewport; the rest folds and stays reachable by
keyboard; every panel keeps itself current.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from nexusops.common import clock, roles
from tests.factories import incident
from tests.support.browser_fixtures import fresh_page

pytestmark = pytest.mark.browser

FOLD = {"width": 1400, "height": 900}
LIVE_MS = 5_000  # the panels poll every 2 s


@pytest.fixture
def p0(make_user):
    """A P0 with a commander, a responder, a dozen notes and Runbook 2.4's escalation."""
    from incidents import services
    from tests.oncall.conftest import runbook_policy

    iris = make_user("iris", roles.INCIDENT_COMMANDER, first_name="Iris")
    ravi = make_user("ravi", roles.RESPONDER, first_name="Ravi")
    runbook_policy()
    inc = incident("API gateway returning 502s", "P0", services=("api-gateway",), actor=iris)
    services.incident_assign(incident=inc, actor=iris, commander=iris, responders=[ravi])
    for n in range(12):
        services.incident_note_add(
            incident=inc, actor=iris, message=f"Finding number {n}.", internal=n % 2 == 0
        )
    inc.refresh_from_db()
    return inc


@pytest.fixture
def wide(browser):
    with fresh_page(browser, viewport=FOLD) as page:
        yield page


def _above_the_fold(locator) -> None:  # noqa: ANN001
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and box["y"] + box["height"] <= FOLD["height"], (
        f"{locator} ends at {box and box['y'] + box['height']} px, below the first viewport"
    )


def test_what_a_commander_acts_on_is_in_the_first_viewport(wide, live_server, login, p0):
    login(wide, live_server, "iris")
    wide.goto(f"{live_server.url}/incidents/{p0.number}/")
    header = wide.locator("#incident-header")
    height = wide.evaluate("document.documentElement.scrollHeight")
    print(f"command page at 1400 px wide: {height} px tall")  # noqa: T201 - the report reads it

    _above_the_fold(header.locator(".pill"))
    _above_the_fold(header.get_by_role("button", name="Acknowledge", exact=True))
    _above_the_fold(header.locator(".sla-due"))
    glance = wide.locator("#incident-glance")
    # The next runbook step: the checklist's first open item, with its tick.
    _above_the_fold(glance.locator(".next-step .item-text"))
    _above_the_fold(glance.locator(".next-step .tick"))
    people = glance.locator(".glance-people")
    _above_the_fold(people)
    expect(people).to_contain_text("Iris")
    expect(people).to_contain_text("Ravi")
    latest = glance.locator(".glance-latest li")
    expect(latest.first).to_contain_text("Finding number 11.")
    _above_the_fold(latest.last)
    _above_the_fold(wide.get_by_role("button", name="Add note"))

    # Everything else folds, and each fold opens from the keyboard.
    for name in (
        "Timeline",
        "Runbook checklist",
        "Pending timers",
        "Escalation",
        "Deliveries",
        "Remediation",
        "Deployments",
        "Alerts",
        "Status page",
        "Post-mortem",
        "Assign people",
    ):
        summary = wide.locator("details.fold > summary", has_text=name)
        expect(summary).to_have_count(1)
        summary.focus()
        wide.keyboard.press("Enter")
        expect(summary.locator("xpath=..")).to_have_attribute("open", "")
    expect(wide.locator("#incident-timeline")).to_be_visible()
    expect(wide.locator("#incident-steps")).to_be_visible()


def test_ticking_the_next_step_moves_to_the_one_after(wide, live_server, login, p0):
    login(wide, live_server, "iris")
    wide.goto(f"{live_server.url}/incidents/{p0.number}/")
    step = wide.locator("#incident-glance .next-step .item-text")
    first = step.inner_text()
    wide.locator("#incident-glance .next-step .tick").click()
    expect(step).not_to_have_text(first)
    expect(wide.locator("#incident-glance .glance-latest li").first).to_contain_text(
        first.split("\n")[0][:20]
    )


def test_each_escalation_tier_is_printed_once(wide, live_server, login, p0):
    login(wide, live_server, "iris")
    wide.goto(f"{live_server.url}/incidents/{p0.number}/")
    wide.locator("details.fold > summary", has_text="Escalation").click()
    tiers = wide.locator("#incident-escalations .escalation-list li")
    expect(tiers.first).to_be_visible()
    # The clock beside each tier is ticking (the page's script has run) ...
    expect(tiers.first.locator(".sla-due")).to_have_text(re.compile(r"^(due in|overdue by) \d"))
    for row in tiers.all():
        label = row.locator("strong").inner_text()
        # ... and says when, without repeating the tier's text.
        assert row.inner_text().count(label) == 1, row.inner_text()


def test_the_deliveries_panel_follows_a_message_from_sending_to_sent(wide, live_server, login, p0):
    from nexusops.engine.models import OutboxMessage

    now = clock.now()
    message = OutboxMessage.objects.create(
        key=f"layout-test-{p0.pk}",
        target="slack.post",
        incident=p0,
        state=OutboxMessage.State.SENDING,
        attempts=1,
        next_attempt_at=now,
        created_at=now,
    )
    login(wide, live_server, "iris")
    wide.goto(f"{live_server.url}/incidents/{p0.number}/")
    wide.locator("details.fold > summary", has_text="Deliveries").click()
    row = wide.locator(f"#delivery-{message.pk} .delivery-state")
    expect(row).to_have_text("Sending")
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.SENT, sent_at=clock.now()
    )
    expect(row).to_have_text("Sent", timeout=LIVE_MS)
    # The fold stays open across the refresh.
    expect(wide.locator("details.fold", has=wide.locator("#status-deliveries"))).to_have_attribute(
        "open", ""
    )
