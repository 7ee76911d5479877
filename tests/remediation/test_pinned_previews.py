"""A preview pins what it shows, and the run does exactly that (issue 12 item 9).

The world changes between the dry run and the run: a newer S3 backup, another rollback, an
ArgoCD app moved by someone else. The approved thing is done, or the run fails saying why.
Dry runs and runs are called in-process against moto, the stand-ins and a real PostgreSQL.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator

import boto3
import psycopg
import pytest

from nexusops.common import roles
from nexusops.integrations.argocd import ArgoCDClient
from nexusops.integrations.kubernetes import KubernetesClient
from remediation.models import ActionRun
from remediation.services import action_approve, action_execute, action_preview, action_request
from tests.factories import UserFactory, incident

from .conftest import PG_SERVER

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
State = ActionRun.State
BUCKET, KEY = "nexus-backups", "manual/backup_20260101_020000.sql.gz"


@pytest.fixture(scope="module")
def restore_url() -> Iterator[str]:
    name = f"nexusops_rem_pin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_SERVER}/{name}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def people(remediation_settings, restore_url):
    remediation_settings.REMEDIATION_RESTORE_DATABASE_URL = restore_url
    return {
        "ic": UserFactory(username="ic-p", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="mgr-p", role=roles.MANAGER),
    }


@pytest.fixture
def s3(moto_url):  # noqa: ANN201 - a boto3 client, for arranging moto's state
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def _dump(s3, label: str) -> str:
    sql = (
        "DROP TABLE IF EXISTS widgets;\n"
        "CREATE TABLE widgets (id int PRIMARY KEY, label text NOT NULL);\n"
        f"INSERT INTO widgets VALUES (1, '{label}');\n"
    )
    return s3.put_object(Bucket=BUCKET, Key=KEY, Body=gzip.compress(sql.encode()))["VersionId"]


def _labels(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT label FROM widgets ORDER BY id")]


def _previewed(people, action: str, params: dict, inc=None) -> ActionRun:
    # Outside an incident only a manager may ask (restores are standalone actions).
    requester = people["ic"] if inc else people["manager"]
    run = action_request(action=action, params=params, actor=requester, incident=inc)
    action_preview(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == State.AWAITING_APPROVAL, run.error
    return run


def _approved_and_run(people, run: ActionRun) -> ActionRun:
    approver = people["ic"] if run.requested_by == people["manager"] else people["manager"]
    action_approve(run=run, actor=approver)
    action_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_restoring_the_latest_backup_restores_the_version_the_approver_saw(people, s3, restore_url):
    shown = _dump(s3, "approved backup")
    run = _previewed(people, "pg.restore_from_s3", {"bucket": BUCKET, "key": KEY})
    assert f"version {shown}" in run.preview and run.pinned["version_id"] == shown
    newer = _dump(s3, "a newer backup nobody approved")  # the nightly job runs meanwhile
    assert newer != shown

    run = _approved_and_run(people, run)

    assert run.state == State.SUCCEEDED, run.error
    assert _labels(restore_url) == ["approved backup"]
    assert run.result["version_id"] == shown and shown in run.summary


def test_a_pinned_backup_that_is_gone_fails_clearly_and_restores_nothing(people, s3, restore_url):
    with psycopg.connect(restore_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS widgets")
        conn.execute("CREATE TABLE widgets (id int PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO widgets VALUES (1, 'as it is now')")
    shown = _dump(s3, "approved backup")
    run = _previewed(people, "pg.restore_from_s3", {"bucket": BUCKET, "key": KEY})
    _dump(s3, "a newer backup")
    s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=shown)  # a lifecycle rule expired it

    run = _approved_and_run(people, run)

    assert run.state == State.FAILED
    assert f"version {shown} of s3://{BUCKET}/{KEY}, the one approved in the dry run" in run.error
    assert _labels(restore_url) == ["as it is now"]


def test_a_rollback_runs_the_revision_it_showed_or_refuses(people, k8s_standin, settings):
    inc = incident()
    run = _previewed(people, "k8s.rollout_undo", {"deployment": "api-gateway"}, inc)
    assert run.pinned["from_revision"] == 19 and run.pinned["to_revision"] == 18
    assert run.pinned["images"] and run.pinned["images"][0] in run.preview
    # Someone rolls back by hand to 17 meanwhile: "back to the previous one" now means 19.
    KubernetesClient.from_settings().rollout_undo("api-gateway", 17)
    patches = len(k8s_standin.requests("PATCH"))

    run = _approved_and_run(people, run)

    assert run.state == State.FAILED
    assert "moved from revision 19 to 20 since the dry run; nothing was changed" in run.error
    assert len(k8s_standin.requests("PATCH")) == patches


def test_a_rollback_done_by_an_earlier_attempt_is_not_done_twice(people, k8s_standin):
    inc = incident()
    run = _previewed(people, "k8s.rollout_undo", {"deployment": "api-gateway"}, inc)
    run = _approved_and_run(people, run)
    assert run.state == State.SUCCEEDED, run.error
    patches = len(k8s_standin.requests("PATCH"))
    # The relay starts it again, as after a worker died right after its patch.
    ActionRun.objects.filter(pk=run.pk).update(state=State.QUEUED)
    action_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == State.SUCCEEDED and "skipped" in run.summary, run.summary
    assert len(k8s_standin.requests("PATCH")) == patches


def test_argocd_refuses_when_the_app_moved_since_the_dry_run(people, argocd_standin):
    inc = incident()
    run = _previewed(
        people, "argocd.set_revision", {"app": "nexus-platform", "revision": "v2.13.1"}, inc
    )
    before = run.pinned["from_revision"]
    assert before in run.preview and run.pinned["revision"] == "v2.13.1"
    ArgoCDClient.from_settings().set_target_revision("nexus-platform", "v2.14.0")

    run = _approved_and_run(people, run)

    assert run.state == State.FAILED
    assert f"moved from {before} to v2.14.0 since the dry run" in run.error
    assert not argocd_standin.requests("POST", "/sync")
