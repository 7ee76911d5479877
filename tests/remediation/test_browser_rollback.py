"""In a browser: a manager asks for an S3 version restore from the Runbooks page, an IC approves
it on the run's page, a real worker runs it against moto, and the page shows the result live.

(The command-page rollback flow needs the panel included in ``incident_detail.html``; until then
this drives the same services through the Runbooks and run pages.)
"""

from __future__ import annotations

import boto3
import pytest
from playwright.sync_api import expect

from nexusops.common import roles

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_manager_restores_an_s3_version_and_an_ic_approves(
    page,  # noqa: F811
    browser,  # noqa: F811
    live_server,
    make_user,  # noqa: F811
    login,  # noqa: F811
    remediation_worker,
    remediation_settings,
    moto_url,
):
    make_user("mona", roles.MANAGER)
    make_user("ivan", roles.INCIDENT_COMMANDER)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket="nexus-media")
    s3.put_bucket_versioning(Bucket="nexus-media", VersioningConfiguration={"Status": "Enabled"})
    key = "uploads/video_123.mp4"
    good = s3.put_object(Bucket="nexus-media", Key=key, Body=b"the good video")["VersionId"]
    s3.put_object(Bucket="nexus-media", Key=key, Body=b"corrupted")

    login(page, live_server, "mona")
    page.goto(f"{live_server.url}/runbooks/")
    form = page.locator('[data-action="aws.s3_restore"] form')
    form.locator('input[name="p_key"]').fill(key)
    form.locator('input[name="p_version_id"]').fill(good)
    form.get_by_role("button", name="Request…").click()
    expect(page.locator(".run-state")).to_have_text("Awaiting approval", timeout=20_000)
    expect(page.locator(".run-preview")).to_contain_text(f"Copy version {good}")
    run_url = page.url

    approver = browser.new_context(timezone_id="UTC").new_page()
    login(approver, live_server, "ivan")
    approver.goto(run_url)
    approver.get_by_role("button", name="Approve and run").click()
    expect(approver.locator(".run-state")).to_have_text("Succeeded", timeout=30_000)
    expect(approver.locator(".run-summary")).to_contain_text("restored s3://nexus-media/")
    approver.context.close()

    expect(page.locator(".run-state")).to_have_text("Succeeded", timeout=10_000)
    assert s3.get_object(Bucket="nexus-media", Key=key)["Body"].read() == b"the good video"
