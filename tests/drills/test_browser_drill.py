"""In a browser: a manager starts the quarterly DR drill, attaches evidence to each step
(text, a link, a file), records the recovery point, completes the drill and reads its times
against the RTO and RPO; Reports lists it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from drills.models import Drill
from drills.seed import seed_drills
from nexusops.common import roles

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_manager_runs_a_drill_with_evidence(page, live_server, make_user, login, tmp_path):
    make_user("mona", roles.MANAGER)
    seed_drills(lambda _: None)
    drill = Drill.objects.get(state=Drill.State.PLANNED)
    log = tmp_path / "smoke.log"
    log.write_text("smoke tests: 12 passed\n")

    login(page, live_server, "mona")
    page.goto(f"{live_server.url}/drills/")
    page.locator(f'[data-start="{drill.pk}"]').click()
    expect(page.locator("[data-state]").first).to_have_text("Running")
    for order in range(1, 7):
        step = page.locator(f"#step-{order}")
        evidence = step.locator("form.evidence-form")
        if order == 5:
            evidence.locator('select[name="kind"]').select_option("file")
            evidence.locator('input[name="file"]').set_input_files(str(log))
        elif order == 2:
            evidence.locator('select[name="kind"]').select_option("link")
            evidence.locator('input[name="url"]').fill("https://ci.example/dr/42")
        else:
            evidence.locator('input[name="text"]').fill(f"step {order} done")
        evidence.get_by_role("button", name="Attach evidence").click()
        expect(page.locator(".flash").first).to_contain_text("Evidence attached")
        step = page.locator(f"#step-{order}")
        if order == 3:
            point = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).strftime(
                "%Y-%m-%dT%H:%M:%S"
            )
            step.locator('input[name="recovery_point"]').fill(point)
        step.locator(f'[data-complete="{order}"]').click()
        expect(page.locator(f"#step-{order}")).to_have_attribute("data-done", "yes")
    expect(page.locator("#step-5 .evidence a")).to_have_text("smoke.log")
    page.locator("#drill-complete").click()
    expect(page.locator("#recovery-time")).to_contain_text("within the RTO of 60 min")
    expect(page.locator("#data-loss")).to_contain_text("within the RPO of 5 min")
    expect(page.locator("#drill-summary")).to_contain_text("RTO 60 min: met")

    page.goto(f"{live_server.url}/reports/")
    expect(page.locator("#report-dr_drills")).to_contain_text("met (60)")
