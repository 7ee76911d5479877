"""The AWS runbook actions (issue 21) as a person uses them, in Chromium: a responder checks the
uploads bucket's exposure, an IC requests blocking it, growing a full disk and adding a Redis
shard, a manager approves, and the command page shows the results and the timeline. moto holds
the demo's own AWS world (``nexusops.standins.aws_demo``), and a real worker runs the actions
against it."""

from __future__ import annotations

import boto3
import pytest
from playwright.sync_api import expect

from nexusops.common import roles
from nexusops.standins import aws_demo
from remediation.models import ActionRun, Scenario
from remediation.seed import seed_scenarios
from remediation.seed_aws import seed_aws_scenarios
from remediation.services import scenario_attach
from tests.factories import incident
from tests.support.browser_fixtures import fresh_page

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

RUN_MS = 30_000  # a worker on a loaded machine; the panel polls every 2 s


@pytest.fixture
def world(remediation_worker, remediation_settings, moto_url, make_user):
    def client(service: str):  # noqa: ANN202 - boto3, arranging moto as the demo does
        return boto3.client(
            service, endpoint_url=moto_url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    client("s3").create_bucket(Bucket="nexus-uploads")
    made = aws_demo.seed(client)
    people = {
        "rory": make_user("rory", roles.RESPONDER, first_name="Rory"),
        "iris": make_user("iris", roles.INCIDENT_COMMANDER, first_name="Iris"),
        "maya": make_user("maya", roles.MANAGER, first_name="Maya"),
    }
    seed_scenarios(lambda _: None)
    seed_aws_scenarios(lambda _: None)
    inc = incident(title="Uploads bucket public and the log disk full", actor=people["iris"])
    for slug in ("file-upload-failures", "out-of-disk-space", "cache-scaling"):
        scenario_attach(incident=inc, scenario=Scenario.objects.get(slug=slug),
                        actor=people["iris"])  # fmt: skip
    return {"incident": inc, "volume": made["volume"], "ec2": client("ec2"), "s3": client("s3"),
            "elasticache": client("elasticache")}  # fmt: skip


def _open(page, live_server, inc):  # noqa: ANN001, ANN202
    """The command page with its Remediation fold opened; returns the panel."""
    page.goto(f"{live_server.url}/incidents/{inc.number}/")
    page.locator("#fold-remediation > summary").click()
    panel = page.locator("#remediation-panel")
    expect(panel.locator(".scenario")).to_have_count(3)
    return panel


def _request(panel, action: str, **params: str) -> None:  # noqa: ANN001
    form = panel.locator(f'form:has(button[data-action="{action}"])')
    if params:
        form.locator("summary").click()
        for name, value in params.items():
            form.locator(f'input[name="p_{name}"]').fill(value)
    form.locator(f'button[data-action="{action}"]').click()


def test_exposure_check_then_block_and_grow_a_disk_with_a_second_approver(
    page, browser, live_server, login, world
):
    inc, volume = world["incident"], world["volume"]

    # A responder runs the exposure check; the public grant is flagged on the run.
    login(page, live_server, "rory")
    panel = _open(page, live_server, inc)
    _request(panel, "s3.exposure")
    run = panel.locator("article.run", has_text="nexus-uploads").first
    expect(run).to_have_attribute("data-state", "succeeded", timeout=RUN_MS)
    expect(run.locator(".run-summary")).to_contain_text("nexus-uploads: PUBLIC")
    expect(run.locator(".run-summary")).to_contain_text("everyone (AllUsers)")
    # A responder may not request changes: no request button for them.
    expect(panel.locator('button[data-action="s3.block_public_access"]')).to_have_count(0)

    with fresh_page(browser) as ic:
        login(ic, live_server, "iris")
        ic_panel = _open(ic, live_server, inc)

        # Shrinking is refused by the dry run, with the reason on the run's card; AWS sees
        # no ModifyVolume and nothing waits for approval.
        _request(ic_panel, "ebs.resize", volume=volume, size_gib="50")
        refused = ic_panel.locator('article.run[data-state="rejected"]')
        expect(refused).to_have_count(1, timeout=RUN_MS)
        ic_panel.locator("details.results > summary").click()  # finished runs fold away
        expect(refused.get_by_role("alert")).to_contain_text(
            f"{volume} is 100 GiB: a volume only grows"
        )
        expect(refused.get_by_role("alert")).to_contain_text("asked 50 GiB")
        assert world["ec2"].describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 100

        # Growing it and blocking public access wait for approval, with their dry runs.
        _request(ic_panel, "ebs.resize", volume=volume, size_gib="200")
        pending = ic_panel.locator('article.run[data-state="awaiting_approval"]')
        expect(pending).to_have_count(1, timeout=RUN_MS)
        expect(pending.locator(".run-preview")).to_contain_text("from 100 GiB to 200 GiB")
        _request(ic_panel, "s3.block_public_access")
        expect(pending).to_have_count(2, timeout=RUN_MS)
        block = ic_panel.locator("article.run", has_text="Block public access").first
        expect(block.locator(".run-preview")).to_contain_text("AllUsers")
        # Adding a shard to the demo's Redis (moto extended with resharding): its dry run.
        _request(ic_panel, "cache.add_shards", shards="3")
        expect(pending).to_have_count(3, timeout=RUN_MS)
        shards = ic_panel.locator("article.run", has_text="Add ElastiCache shards").first
        expect(shards.locator(".run-preview")).to_contain_text("2 → 3 shards")
        expect(ic_panel.locator("[data-approve]")).to_have_count(0)  # not their own
        expect(ic_panel).to_contain_text("Waiting for a second person to approve.")

    # A manager approves both; the results and the timeline show on the page.
    with fresh_page(browser) as page:  # the responder's page stays signed in as them
        login(page, live_server, "maya")
        panel = _open(page, live_server, inc)
        for left in (2, 1, 0):
            panel.locator("[data-approve]").first.click()
            expect(panel.locator("[data-approve]")).to_have_count(left)
        resize = ActionRun.objects.get(
            action="ebs.resize", state__in=["queued", "running", "succeeded"]
        )
        blocked = ActionRun.objects.get(action="s3.block_public_access")
        resharded = ActionRun.objects.get(action="cache.add_shards")
        for run in (resize, blocked, resharded):
            expect(page.locator(f"#run-{run.pk}")).to_have_attribute(
                "data-state", "succeeded", timeout=RUN_MS
            )
        expect(page.locator(f"#run-{resize.pk} .run-summary")).to_contain_text(
            f"{volume}: 100 → 200 GiB"
        )
        expect(page.locator(f"#run-{blocked.pk} .run-summary")).to_contain_text(
            "not public any more"
        )
        expect(page.locator(f"#run-{resharded.pk} .run-summary")).to_contain_text(
            "nexus-redis: 2 → 3 shards, available"
        )
        page.reload()
        timeline = page.locator("#incident-timeline")
        expect(timeline).to_contain_text(f"approved #{resize.pk} Grow an EBS volume")
        expect(timeline).to_contain_text(f"approved #{blocked.pk} Block public access")
        expect(timeline).to_contain_text("Maya")
        expect(timeline).to_contain_text("100 → 200 GiB")
        expect(timeline).to_contain_text("not public any more")
        expect(timeline).to_contain_text(f"approved #{resharded.pk} Add ElastiCache shards")

    # What AWS (moto) holds afterwards.
    assert world["ec2"].describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 200
    block_conf = world["s3"].get_public_access_block(Bucket="nexus-uploads")
    assert all(block_conf["PublicAccessBlockConfiguration"].values())
    assert len(world["elasticache"].describe_replication_groups(
        ReplicationGroupId="nexus-redis")["ReplicationGroups"][0]["NodeGroups"]) == 3  # fmt: skip
