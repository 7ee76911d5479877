"""AWS actions (runbook 4.1-4.3, 5.2): backups to S3, object versions, buckets, RDS PITR."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

from nexusops.integrations.aws import AwsClient, ObjectVersion
from nexusops.integrations.postgres_backup import database_label, pg_dump_to_s3, s3_to_psql

from . import (
    REMEDIATION,
    ActionFailed,
    ActionSpec,
    Outcome,
    Param,
    Preview,
    Progress,
    register,
    text_table,
)
from .config import backup_bucket, missing, setting


def _aws_missing() -> str:
    return ""  # boto3 finds credentials itself; the adapter says NotConfigured when it cannot


def _backup_missing() -> str:
    return missing("REMEDIATION_POSTGRES_URL")


BUCKET = Param("bucket", "Bucket", max_length=63, default="nexus-media")
KEY = Param("key", "Object key", max_length=1024)


def _backup(params: dict, progress: Progress) -> Outcome:
    bucket = params.get("bucket") or backup_bucket()
    progress(10, f"pg_dump | gzip to s3://{bucket}/{params['prefix']}/")
    done = pg_dump_to_s3(
        setting("REMEDIATION_POSTGRES_URL"),
        bucket,
        params["prefix"],
        AwsClient.from_settings(),
        timeout=3000,
    )
    return Outcome(
        f"backup stored at s3://{done['bucket']}/{done['key']} ({done['size']} bytes, SSE)",
        json.dumps(done, indent=2),
        done,
    )


RESTORE_URL = "REMEDIATION_RESTORE_DATABASE_URL"


def _restore_db_missing() -> str:
    unset = missing(RESTORE_URL)
    return f"{unset} (the database a backup is restored into)" if unset else ""


def _sql_gz(key: str) -> None:
    if not key.endswith(".sql.gz") or key.startswith("/"):
        raise ValueError("Object key must name a gzip SQL dump (e.g. manual/backup_….sql.gz).")


def _dump_object(params: dict) -> ObjectVersion:
    """The version to restore, read from S3; ActionFailed when there is none.

    The version the approved dry run pinned wins over the parameter: "the latest" is whatever
    was latest when the approver looked, not when the worker runs.
    """
    bucket, key = params["bucket"], params["key"]
    pinned = (params.get("pinned") or {}).get("version_id")
    wanted = pinned or params.get("version_id")
    versions = AwsClient.from_settings().list_object_versions(bucket, key)
    found = next(
        (v for v in versions if v.version_id == wanted or not wanted and v.is_latest), None
    )
    if found is None or found.delete_marker:
        if pinned:
            raise ActionFailed(
                f"version {pinned} of s3://{bucket}/{key}, the one approved in the dry run, is "
                "not in S3 any more: nothing was restored. Request the restore again."
            )
        which = f"version {wanted} of " if wanted else ""
        raise ActionFailed(f"{which}s3://{bucket}/{key} is not in S3: nothing to restore.")
    return found


def _pg_restore_preview(params: dict) -> Preview:
    found = _dump_object(params)
    return Preview(
        f"Load s3://{params['bucket']}/{params['key']} (version {found.version_id}, "
        f"{found.size} bytes gzip, last modified {found.last_modified}) into the database "
        f"{database_label(setting(RESTORE_URL))}: gunzip | psql --single-transaction "
        "--set ON_ERROR_STOP=1. Objects in the dump are dropped and recreated with the dump's "
        "rows; anything written since the backup is lost. On any error nothing is changed.",
        {"version_id": found.version_id, "etag": found.etag, "size": found.size},
    )


def _pg_restore(params: dict, progress: Progress) -> Outcome:
    found = _dump_object(params)
    pinned = bool((params.get("pinned") or {}).get("version_id") or params.get("version_id"))
    target = database_label(setting(RESTORE_URL))
    progress(10, f"gunzip | psql: s3://{params['bucket']}/{params['key']} "
                 f"(version {found.version_id}) into {target}")  # fmt: skip
    done = s3_to_psql(
        setting(RESTORE_URL), params["bucket"], params["key"], AwsClient.from_settings(),
        timeout=3000, version_id=found.version_id if pinned else None,
    )  # fmt: skip
    output = done.pop("output")
    tags = ", ".join(f"{tag} ×{n}" for tag, n in sorted(done["commands"].items()))
    return Outcome(
        f"restored s3://{done['bucket']}/{done['key']} (version {done.get('version_id')}) into "
        f"{done['database']}: {done['restored_bytes']} bytes of SQL, {done['rows_copied']} "
        "rows copied",
        f"{json.dumps(done, indent=2)}\n\npsql: {tags}\n{output}",
        done,
    )


def _versions(params: dict, progress: Progress) -> Outcome:
    versions = AwsClient.from_settings().list_object_versions(params["bucket"], params["key"])
    rows = [asdict(v) for v in versions]
    table = text_table(rows, ["version_id", "is_latest", "last_modified", "size", "delete_marker"])
    return Outcome(
        f"{len(rows)} versions of s3://{params['bucket']}/{params['key']}",
        table,
        {"versions": rows},
    )


def _restore_plan(params: dict, dry_run: bool) -> dict:
    return AwsClient.from_settings().restore_object_version(
        params["bucket"], params["key"], params["version_id"], dry_run=dry_run
    )


def _restore_preview(params: dict) -> str:
    plan = _restore_plan(params, True)
    return (
        f"Copy version {plan['restored_from']} ({plan['size']} bytes, from "
        f"{plan['restored_version_modified']}) of s3://{plan['bucket']}/{plan['key']} back as "
        f"the latest, over version {plan['replaces_version']} (which stays restorable)."
    )


def _restore(params: dict, progress: Progress) -> Outcome:
    done = _restore_plan(params, False)
    if done["skipped"]:
        return Outcome(f"version {done['restored_from']} is already the latest: skipped", data=done)
    return Outcome(
        f"restored s3://{done['bucket']}/{done['key']} to version {done['restored_from']} "
        f"(new version {done['version_id']})",
        json.dumps(done, indent=2),
        done,
    )


def _bucket_report(params: dict, progress: Progress) -> Outcome:
    report = AwsClient.from_settings().bucket_report(params["bucket"])
    findings = report["findings"]
    summary = f"{params['bucket']}: " + ("; ".join(findings) if findings else "as the runbook asks")
    return Outcome(summary, json.dumps(report, indent=2, default=str), report)


def _pitr_args(params: dict) -> tuple:
    return (
        params["source"],
        params["target"],
        dt.datetime.fromisoformat(params["restore_time"]),
    )


def _pitr_preview(params: dict) -> str:
    plan = AwsClient.from_settings().rds_restore_to_point_in_time(
        *_pitr_args(params), instance_class=params.get("instance_class"), dry_run=True
    )
    return (
        f"Restore {plan['source_id']} as of {plan['restore_time']} into a new instance "
        f"{plan['target_id']} ({plan['instance_class']}); restorable window "
        f"{plan['earliest_restorable_time']} .. {plan['latest_restorable_time']}. Then: update "
        "connection strings, test thoroughly, cut over (the scenario's follow-up steps)."
    )


def _pitr(params: dict, progress: Progress) -> Outcome:
    done = AwsClient.from_settings().rds_restore_to_point_in_time(
        *_pitr_args(params), instance_class=params.get("instance_class")
    )
    return Outcome(
        f"restoring {done['source_id']} as of {done['restore_time']} into {done['target_id']} "
        f"({done.get('status')})",
        json.dumps(done, indent=2),
        done,
    )


for spec in (
    ActionSpec(
        "aws.pg_backup", "PostgreSQL backup to S3", "aws", _backup, _backup_missing,
        params=(
            Param("prefix", "Key prefix", default="manual", max_length=100),
            Param("bucket", "Bucket", required=False, max_length=63,
                  help="empty: BACKUP_BUCKET (nexus-backups)"),
        ),
        permission=REMEDIATION, timeout_seconds=3600, standalone=True, idempotent=True,
        description="pg_dump | gzip, multipart upload to S3 with server-side encryption",
    ),
    ActionSpec(
        "pg.restore_from_s3", "Restore PostgreSQL from an S3 backup", "postgres", _pg_restore,
        _restore_db_missing,
        params=(
            Param("bucket", "Bucket", max_length=63, default="nexus-backups"),
            Param("key", "Object key", max_length=1024, check=_sql_gz,
                  help="a backup of aws.pg_backup, e.g. manual/backup_20260101_020000.sql.gz"),
            Param("version_id", "Version id", required=False, max_length=1024,
                  help="empty: the latest version"),
        ),
        permission=REMEDIATION, dangerous=True, preview=_pg_restore_preview, standalone=True,
        timeout_seconds=3600,
        description="gunzip < backup.sql.gz | psql, in one transaction, into "
        "REMEDIATION_RESTORE_DATABASE_URL",
    ),
    ActionSpec(
        "aws.s3_versions", "List an object's versions", "aws", _versions, _aws_missing,
        params=(BUCKET, KEY), standalone=True,
        description="aws s3api list-object-versions --bucket B --prefix KEY",
    ),
    ActionSpec(
        "aws.s3_restore", "Restore an object version", "aws", _restore, _aws_missing,
        params=(BUCKET, KEY, Param("version_id", "Version id", max_length=1024)),
        permission=REMEDIATION, dangerous=True, preview=_restore_preview, standalone=True,
        idempotent=True,  # a second copy of the same version changes no content
        description="copy the chosen version back over the key as the latest",
    ),
    ActionSpec(
        "aws.bucket_report", "Check a bucket's protection", "aws", _bucket_report, _aws_missing,
        params=(BUCKET,), standalone=True,
        description="policy, versioning, lifecycle, replication and encryption of a bucket",
    ),
    ActionSpec(
        "aws.rds_pitr", "RDS point-in-time restore", "aws", _pitr, _aws_missing,
        params=(
            Param("source", "Source instance", max_length=63, default="nexus-prod"),
            Param("target", "New instance", max_length=63),
            Param("restore_time", "Restore to (UTC)", "datetime"),
            Param("instance_class", "Instance class", required=False, max_length=40),
        ),
        permission=REMEDIATION, dangerous=True, preview=_pitr_preview, standalone=True,
        timeout_seconds=300,
        description="restore into a new instance; follow-up steps in the PITR scenario",
    ),
):  # fmt: skip
    register(spec)
