"""pg.restore_from_s3 (runbook 1.2, 4.2) end to end: a throwaway database is backed up by
aws.pg_backup into moto's S3, changed, and restored by a real worker after a second person
approves; and the refusals (bad key, not configured, object missing, a failing dump)."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator

import boto3
import psycopg
import pytest

from nexusops.common import roles
from nexusops.common.errors import ApplicationError, PermissionDeniedError
from nexusops.integrations.aws import AwsClient
from nexusops.integrations.postgres_backup import RestoreFailed, s3_to_psql
from remediation.models import ActionRun
from remediation.services import action_approve, action_request
from tests.factories import UserFactory
from tests.support.worker import WorkerProcess

from .conftest import PG_SERVER, _await, _env
from .helpers import run_action, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = ActionRun.State
SECRET = "not-a-secret-pw"
ROWS = [(1, "sprocket"), (2, "gear"), (3, "cog")]


@pytest.fixture(scope="module")
def restore_db() -> Iterator[dict[str, str]]:
    """A database of its own; its URL carries a password (ignored by trust auth) that must
    never be shown."""
    name = f"nexusops_rem_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    plain = f"{PG_SERVER}/{name}"
    secret = plain.replace("postgres://postgres@", f"postgres://postgres:{SECRET}@", 1)
    assert SECRET in secret
    yield {"name": name, "plain": plain, "url": secret}
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def remediation_worker(
    django_db_setup, django_db_blocker, k8s_standin, argocd_standin, moto_url, checks_db,
    restore_db,
) -> Iterator[WorkerProcess]:  # fmt: skip
    """This module's worker backs up and restores the throwaway database."""
    env = _env(k8s_standin, argocd_standin, moto_url, checks_db)
    env["REMEDIATION_POSTGRES_URL"] = restore_db["url"]
    env["REMEDIATION_RESTORE_DATABASE_URL"] = restore_db["url"]
    worker = WorkerProcess(queues="default,remediation", extra_env=env).start()
    try:
        with django_db_blocker.unblock():
            _await(worker)
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def people(remediation_worker, remediation_settings, restore_db, moto_url):
    remediation_settings.REMEDIATION_POSTGRES_URL = restore_db["url"]
    remediation_settings.REMEDIATION_RESTORE_DATABASE_URL = restore_db["url"]
    with psycopg.connect(restore_db["plain"], autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS widgets, added_later")
        conn.execute("CREATE TABLE widgets (id int PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO widgets VALUES (1, 'sprocket'), (2, 'gear'), (3, 'cog')")
    _s3(moto_url).create_bucket(Bucket="nexus-backups")
    return {
        "ic": UserFactory(username="ic-r", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="mgr-r", role=roles.MANAGER),
    }


def _s3(moto_url: str):  # noqa: ANN202 - a boto3 client, for arranging moto's state
    return boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, label FROM widgets ORDER BY id").fetchall()


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in found}


def test_backup_change_and_restore_through_the_worker(people, restore_db, moto_url):
    manager, ic = people["manager"], people["ic"]
    backup = run_action("aws.pg_backup", {"prefix": "restore-test"}, requester=manager)
    assert backup.state == State.SUCCEEDED, backup.error
    key = backup.result["key"]

    with psycopg.connect(restore_db["plain"], autocommit=True) as conn:  # the bad migration
        conn.execute("UPDATE widgets SET label = 'broken' WHERE id = 1")
        conn.execute("DELETE FROM widgets WHERE id = 2")
        conn.execute("INSERT INTO widgets VALUES (4, 'stray')")
    assert _rows(restore_db["plain"]) == [(1, "broken"), (3, "cog"), (4, "stray")]

    run = action_request(action="pg.restore_from_s3", actor=manager, reason="roll back",
                         params={"bucket": "nexus-backups", "key": key})  # fmt: skip
    assert run.dangerous and run.state == State.PREVIEWING
    run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.AWAITING_APPROVAL, run.error
    size = _s3(moto_url).head_object(Bucket="nexus-backups", Key=key)["ContentLength"]
    assert f"s3://nexus-backups/{key}" in run.preview
    assert f"{size} bytes gzip" in run.preview and "last modified" in run.preview
    assert "version " in run.preview
    assert f"{restore_db['name']} on 127.0.0.1:5432" in run.preview
    assert SECRET not in run.preview
    assert _rows(restore_db["plain"])[0] == (1, "broken")  # the dry run changed nothing

    with pytest.raises(PermissionDeniedError) as refused:
        action_approve(run=run, actor=manager)
    assert refused.value.code == "self_approval"
    action_approve(run=run, actor=ic)
    run = settle(run, timeout=60)
    assert run.state == State.SUCCEEDED, run.error
    assert _rows(restore_db["plain"]) == ROWS
    assert run.result["rows_copied"] == 3 and run.result["restored_bytes"] > 0
    assert run.result["commands"]["CREATE TABLE"] >= 1
    assert "restored s3://nexus-backups/" in run.summary and "3 rows copied" in run.summary
    assert "COPY 3" in run.output
    assert SECRET not in run.output + run.summary + str(run.result)


def test_refused_before_any_call(people, settings):
    manager = people["manager"]
    before = ActionRun.objects.count()
    with pytest.raises(ApplicationError) as missing:
        action_request(action="pg.restore_from_s3", params={"bucket": "nexus-backups"},
                       actor=manager)  # fmt: skip
    assert "key" in missing.value.fields
    with pytest.raises(ApplicationError) as wrong:
        action_request(action="pg.restore_from_s3", actor=manager,
                       params={"bucket": "nexus-backups", "key": "manual/notes.txt"})  # fmt: skip
    assert ".sql.gz" in wrong.value.fields["key"][0]
    settings.REMEDIATION_RESTORE_DATABASE_URL = ""
    with pytest.raises(ApplicationError) as unset:
        action_request(action="pg.restore_from_s3", actor=manager,
                       params={"bucket": "nexus-backups", "key": "manual/b.sql.gz"})  # fmt: skip
    assert unset.value.code == "not_configured"
    assert "not configured: set REMEDIATION_RESTORE_DATABASE_URL" in unset.value.message
    assert ActionRun.objects.count() == before


def test_a_missing_object_is_rejected_by_the_dry_run(people, restore_db):
    params = {"bucket": "nexus-backups", "key": "manual/gone.sql.gz"}
    run = action_request(action="pg.restore_from_s3", actor=people["manager"], params=params)
    run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.REJECTED
    assert "s3://nexus-backups/manual/gone.sql.gz is not in S3" in run.error
    assert _rows(restore_db["plain"]) == ROWS


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (gzip.compress(b"DROP TABLE widgets;\nCREATE TABLE added_later (i int);\n"
                       b"SELECT no_such_function();\n"), "no_such_function"),
        (gzip.compress(b"DROP TABLE IF EXISTS widgets;\n" + b"SELECT 1;\n" * 5000)[:-40],
         "truncated"),
        (b"DROP TABLE widgets;", "not a gzip file"),
    ],
    ids=["sql-error", "truncated", "not-gzip"],
)  # fmt: skip
def test_a_failing_restore_changes_nothing(people, restore_db, moto_url, body, words):
    _s3(moto_url).put_object(Bucket="nexus-backups", Key="bad/backup.sql.gz", Body=body)
    with pytest.raises(RestoreFailed) as failed:
        s3_to_psql(restore_db["url"], "nexus-backups", "bad/backup.sql.gz",
                   AwsClient.from_settings(), timeout=60)  # fmt: skip
    assert words in failed.value.message and SECRET not in failed.value.message
    assert _rows(restore_db["plain"]) == ROWS
    assert _tables(restore_db["plain"]) == {"widgets"}
