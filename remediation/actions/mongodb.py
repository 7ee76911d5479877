"""MongoDB backup to S3 and its restore (runbook 4.1), with pymongo (see
``nexusops/integrations/mongodb_backup.py``). The restore replaces collections, so it shows a
dry run and waits for a second person, like the PostgreSQL one."""

from __future__ import annotations

import json

from nexusops.integrations.aws import AwsClient
from nexusops.integrations.mongodb_backup import database_name, mongo_dump_to_s3, s3_to_mongo

from . import REMEDIATION, ActionFailed, ActionSpec, Outcome, Param, Preview, Progress, register
from .config import backup_bucket, missing, setting

URL = "REMEDIATION_MONGODB_URL"


def _db(value: str) -> None:
    database_name(value)


def _dump_key(key: str) -> None:
    if not key.endswith(".bson.gz") or key.startswith("/"):
        raise ValueError(
            "Object key must name a MongoDB dump (e.g. manual/mongo_backup_….bson.gz)."
        )


def _backup(params: dict, progress: Progress) -> Outcome:
    bucket = params.get("bucket") or backup_bucket()
    progress(10, f"pymongo dump | gzip to s3://{bucket}/{params['prefix']}/")
    done = mongo_dump_to_s3(
        setting(URL), bucket, params["prefix"], AwsClient.from_settings(),
        database=params.get("database") or "", timeout=60,
    )  # fmt: skip
    total = sum(done["counts"].values())
    return Outcome(
        f"MongoDB {done['database']} backed up to s3://{done['bucket']}/{done['key']}: "
        f"{len(done['counts'])} collections, {total} documents, {done['size']} bytes",
        json.dumps(done, indent=2),
        done,
    )


def _latest_version(params: dict) -> str:
    versions = AwsClient.from_settings().list_object_versions(params["bucket"], params["key"])
    pinned = (params.get("pinned") or {}).get("version_id")
    found = next(
        (v for v in versions if v.version_id == pinned or not pinned and v.is_latest), None
    )
    if found is None or found.delete_marker:
        raise ActionFailed(
            f"s3://{params['bucket']}/{params['key']} is not in S3: nothing restored."
        )
    return found.version_id


def _restore_preview(params: dict) -> Preview:
    version = _latest_version(params)
    return Preview(
        f"Restore s3://{params['bucket']}/{params['key']} (version {version}) into the MongoDB "
        f"database {params['target']}: each collection in the dump is dropped there and "
        "recreated with the dump's documents and indexes. The whole dump is checked before "
        "anything is written.",
        {"version_id": version},
    )


def _restore(params: dict, progress: Progress) -> Outcome:
    version = _latest_version(params)
    progress(10, f"s3://{params['bucket']}/{params['key']} → MongoDB {params['target']}")
    done = s3_to_mongo(
        setting(URL), params["bucket"], params["key"], AwsClient.from_settings(),
        target_database=params["target"], version_id=version, timeout=60,
    )  # fmt: skip
    return Outcome(
        f"restored {sum(done['counts'].values())} documents in {len(done['counts'])} "
        f"collections into {done['database']}",
        json.dumps(done, indent=2),
        done,
    )


for spec in (
    ActionSpec(
        "mongo.backup_to_s3", "MongoDB backup to S3", "mongodb", _backup, lambda: missing(URL),
        params=(
            Param("prefix", "Key prefix", default="manual", max_length=100),
            Param("database", "Database", required=False, max_length=63, check=_db,
                  help="empty: the one in REMEDIATION_MONGODB_URL"),
            Param("bucket", "Bucket", required=False, max_length=63,
                  help="empty: BACKUP_BUCKET (nexus-backups)"),
        ),
        permission=REMEDIATION, timeout_seconds=3600, standalone=True, idempotent=True,
        description="every collection's documents and indexes, gzip, multipart upload to S3",
    ),
    ActionSpec(
        "mongo.restore_from_s3", "Restore MongoDB from an S3 backup", "mongodb", _restore,
        lambda: missing(URL),
        params=(
            Param("bucket", "Bucket", max_length=63, default="nexus-backups"),
            Param("key", "Object key", max_length=1024, check=_dump_key),
            Param("target", "Into database", max_length=63, check=_db),
        ),
        permission=REMEDIATION, dangerous=True, preview=_restore_preview, standalone=True,
        timeout_seconds=3600,
        description="drop and reload each dumped collection (mongorestore --drop)",
    ),
):  # fmt: skip
    register(spec)
