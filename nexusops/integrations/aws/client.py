"""The AWS adapter (runbook 4.1-4.3): the one module that imports boto3/botocore.

S3: streamed multipart uploads with server-side encryption, object versions and restoring one,
and a report of a bucket's protection (policy, versioning, lifecycle, replication, encryption).
RDS: point-in-time restore, checked against the instance's restorable window first.

Settings (``getattr(settings, NAME, "")``): ``AWS_ENDPOINT_URL`` (moto's server in tests and
the embedded mode; unset for AWS itself), ``AWS_REGION`` (default ``us-east-1``). Credentials
come from boto3's usual chain (``AWS_ACCESS_KEY_ID``..., profile, instance role).

To add one more operation: validate the arguments, call ``self._s3`` / ``self._rds`` inside
``with self._vendor_errors("what it does"):`` (it turns botocore errors into ours) and return
plain dicts or dataclasses, never a botocore response as it is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from django.conf import settings

from nexusops.common import clock
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

VENDOR = "aws"
NOT_CONFIGURED = "not configured"
MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
MAX_PARTS = 10_000
_NOT_FOUND = {
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchVersion",
    "NoSuchUpload",
    "404",
    "NotFound",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "SlowDown",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
}
_DB_IDENTIFIER = re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class InvalidArgument(VendorRejected):
    """An argument is not acceptable; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")


class AwsNotFound(VendorRejected):
    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, vendor=VENDOR, code=code, status=404)


class RestoreTimeOutOfRange(VendorRejected):
    """The point-in-time is in the future or outside the instance's restorable window."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="restore_time_out_of_range")


@dataclass(frozen=True)
class UploadResult:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    sha256: str
    parts: int


@dataclass(frozen=True)
class ObjectVersion:
    version_id: str
    is_latest: bool
    last_modified: str
    size: int
    etag: str
    delete_marker: bool


def _bucket(name: str) -> str:
    if not isinstance(name, str) or not _BUCKET.fullmatch(name) or ".." in name:
        raise InvalidArgument(f"bucket name {name!r} is not valid")
    return name


def _key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key.encode()) > 1024:
        raise InvalidArgument("an object key is 1 to 1024 bytes")
    return key


def _db_identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not _DB_IDENTIFIER.fullmatch(value):
        raise InvalidArgument(
            f"{what} {value!r} is not a valid DB instance identifier (a "
            "letter, then up to 62 letters, digits or single hyphens)"
        )
    return value


def _read_part(fileobj: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes return short reads)."""
    chunks, remaining = [], size
    while remaining:
        chunk = fileobj.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value or "")


class AwsClient:
    """S3 and RDS for NexusOps. Build it with :meth:`from_settings`."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        config = Config(
            region_name=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url or None
        self._s3 = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        self._rds = session.client("rds", endpoint_url=self.endpoint_url, config=config)

    @classmethod
    def from_settings(cls) -> AwsClient:
        return cls(
            endpoint_url=getattr(settings, "AWS_ENDPOINT_URL", "") or None,
            region=getattr(settings, "AWS_REGION", "") or "us-east-1",
        )

    @contextlib.contextmanager
    def _vendor_errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            text = f"{what}: {code} {error.get('Message') or ''}".strip()
            if code in _NOT_FOUND:
                raise AwsNotFound(text, code=code) from exc
            if code in _THROTTLED or status == 429:
                raise RateLimited(text, vendor=VENDOR, code=code, status=status) from exc
            if status >= 500:
                raise VendorUnavailable(text, vendor=VENDOR, code=code, status=status) from exc
            raise VendorRejected(text, vendor=VENDOR, code=code, status=status) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise NotConfigured(f"{what}: no AWS credentials ({exc})", vendor=VENDOR) from exc
        except ParamValidationError as exc:
            raise InvalidArgument(f"{what}: {exc}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, closed connections
            raise VendorUnavailable(f"{what}: {exc}", vendor=VENDOR) from exc

    # --- S3 -------------------------------------------------------------------------------------
    def s3_upload_stream(
        self,
        bucket: str,
        key: str,
        fileobj: BinaryIO,
        sse: str | None = "AES256",
        *,
        part_size: int = 16 * MIB,
        content_type: str = "application/octet-stream",
    ) -> UploadResult:
        """Upload a stream of unknown length as a multipart upload, one part in memory at a time.

        The upload is aborted (nothing left behind) if reading the stream or sending a part
        fails, so a producer can make the upload fail by raising from ``read()``.
        """
        _bucket(bucket), _key(key)
        if sse not in (None, "AES256", "aws:kms"):
            raise InvalidArgument("sse must be 'AES256', 'aws:kms' or None")
        if part_size < MIN_PART_SIZE:
            raise InvalidArgument(f"part_size must be at least {MIN_PART_SIZE} bytes")
        extra = {"ServerSideEncryption": sse} if sse else {}
        with self._vendor_errors(f"starting upload of s3://{bucket}/{key}"):
            upload_id = self._s3.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType=content_type, **extra
            )["UploadId"]
        digest, size, parts = hashlib.sha256(), 0, []
        try:
            while True:
                chunk = _read_part(fileobj, part_size)
                if not chunk and parts:
                    break
                if len(parts) == MAX_PARTS:
                    raise InvalidArgument(f"stream exceeds {MAX_PARTS} parts; raise part_size")
                digest.update(chunk)
                size += len(chunk)
                number = len(parts) + 1
                with self._vendor_errors(f"uploading part {number} of s3://{bucket}/{key}"):
                    sent = self._s3.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                if len(chunk) < part_size:
                    break
            with self._vendor_errors(f"completing upload of s3://{bucket}/{key}"):
                done = self._s3.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            with contextlib.suppress(ClientError, BotoCoreError):
                self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        return UploadResult(
            bucket=bucket,
            key=key,
            version_id=done.get("VersionId"),
            etag=done.get("ETag", "").strip('"'),
            size=size,
            sha256=digest.hexdigest(),
            parts=len(parts),
        )

    def s3_download_stream(
        self, bucket: str, key: str, fileobj: BinaryIO, version_id: str | None = None
    ) -> dict[str, Any]:
        """Write an object (or one version of it) to ``fileobj`` in chunks (runbook 4.2 step 1)."""
        _bucket(bucket), _key(key)
        extra = {"VersionId": version_id} if version_id else {}
        with self._vendor_errors(f"downloading s3://{bucket}/{key}"):
            got = self._s3.get_object(Bucket=bucket, Key=key, **extra)
            for chunk in got["Body"].iter_chunks(1 * MIB):
                fileobj.write(chunk)
        return {
            "bucket": bucket,
            "key": key,
            "version_id": got.get("VersionId"),
            "size": got.get("ContentLength"),
            "sse": got.get("ServerSideEncryption"),
        }

    def list_object_versions(self, bucket: str, key: str) -> list[ObjectVersion]:
        """``aws s3api list-object-versions --prefix <key>``, for exactly that key, newest first."""
        _bucket(bucket), _key(key)
        found: list[ObjectVersion] = []
        with self._vendor_errors(f"listing versions of s3://{bucket}/{key}"):
            for page in self._s3.get_paginator("list_object_versions").paginate(
                Bucket=bucket, Prefix=key
            ):
                for marker, entries in (
                    (False, page.get("Versions", [])),
                    (True, page.get("DeleteMarkers", [])),
                ):
                    found += [
                        ObjectVersion(
                            version_id=v["VersionId"],
                            is_latest=v.get("IsLatest", False),
                            last_modified=_iso(v.get("LastModified")),
                            size=v.get("Size", 0),
                            etag=v.get("ETag", "").strip('"'),
                            delete_marker=marker,
                        )
                        for v in entries
                        if v["Key"] == key
                    ]
        return sorted(found, key=lambda v: (v.is_latest, v.last_modified), reverse=True)

    def restore_object_version(
        self, bucket: str, key: str, version_id: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Make an old version the latest again by copying it over the key (runbook 4.3).

        Older versions stay as they are, so the restore itself can be undone. ``dry_run``
        checks the version and returns what would happen without copying.
        """
        _bucket(bucket), _key(key)
        if not isinstance(version_id, str) or not version_id:
            raise InvalidArgument("version_id is required")
        versions = self.list_object_versions(bucket, key)
        chosen = next((v for v in versions if v.version_id == version_id), None)
        if chosen is None:
            raise AwsNotFound(
                f"s3://{bucket}/{key} has no version {version_id}", code="NoSuchVersion"
            )
        if chosen.delete_marker:
            raise InvalidArgument(f"version {version_id} is a delete marker, not content")
        latest = next((v for v in versions if v.is_latest), None)
        plan = {
            "bucket": bucket,
            "key": key,
            "restored_from": version_id,
            "size": chosen.size,
            "restored_version_modified": chosen.last_modified,
            "replaces_version": latest.version_id if latest else None,
            "dry_run": dry_run,
        }
        if dry_run or (latest and latest.version_id == version_id):
            return {**plan, "version_id": None, "skipped": not dry_run}
        if chosen.size > 5 * 1024 * MIB:
            raise InvalidArgument("objects over 5 GiB need a multipart copy, not supported yet")
        with self._vendor_errors(f"restoring s3://{bucket}/{key} to version {version_id}"):
            head = self._s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            extra = (
                {"ServerSideEncryption": head["ServerSideEncryption"]}
                if head.get("ServerSideEncryption")
                else {}
            )
            copied = self._s3.copy_object(
                Bucket=bucket,
                Key=key,
                MetadataDirective="COPY",
                CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id},
                **extra,
            )
        return {**plan, "version_id": copied.get("VersionId"), "skipped": False}

    def bucket_report(self, bucket: str) -> dict[str, Any]:
        """What protects a bucket (runbook 4.3, 5.2); a missing setting is ``"not configured"``.

        ``findings`` lists where it falls short of the runbook: versioning enabled,
        cross-region replication, a lifecycle rule moving objects to Glacier.
        """
        _bucket(bucket)
        calls = {
            "policy": (
                self._s3.get_bucket_policy,
                "NoSuchBucketPolicy",
                lambda r: json.loads(r["Policy"]),
            ),
            "versioning": (
                self._s3.get_bucket_versioning,
                None,
                lambda r: r.get("Status") or NOT_CONFIGURED,
            ),
            "lifecycle": (
                self._s3.get_bucket_lifecycle_configuration,
                "NoSuchLifecycleConfiguration",
                lambda r: r.get("Rules", []),
            ),
            "replication": (
                self._s3.get_bucket_replication,
                "ReplicationConfigurationNotFoundError",
                lambda r: r.get("ReplicationConfiguration", {}),
            ),
            "encryption": (
                self._s3.get_bucket_encryption,
                "ServerSideEncryptionConfigurationNotFoundError",
                lambda r: r["ServerSideEncryptionConfiguration"].get("Rules", []),
            ),
        }
        report: dict[str, Any] = {"bucket": bucket}
        for name, (call, missing_code, pick) in calls.items():
            try:
                with self._vendor_errors(f"reading the {name} of bucket {bucket}"):
                    report[name] = pick(call(Bucket=bucket))
            except VendorRejected as exc:
                if not missing_code or exc.code != missing_code:
                    raise
                report[name] = NOT_CONFIGURED
        findings = []
        if report["versioning"] != "Enabled":
            findings.append("versioning is not enabled")
        if report["replication"] == NOT_CONFIGURED:
            findings.append("no cross-region replication")
        transitions = [
            t.get("StorageClass")
            for rule in (report["lifecycle"] if isinstance(report["lifecycle"], list) else [])
            for t in rule.get("Transitions", [])
        ]
        if not any(str(c).startswith("GLACIER") for c in transitions):
            findings.append("no lifecycle rule moving objects to Glacier")
        report["findings"] = findings
        return report

    # --- RDS ------------------------------------------------------------------------------------
    def rds_restore_to_point_in_time(
        self,
        source_id: str,
        target_id: str,
        restore_time: dt.datetime,
        *,
        instance_class: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Restore ``source_id`` as of ``restore_time`` into a new instance ``target_id``.

        The time must be timezone-aware, not in the future, and inside the instance's restorable
        window (earliest restorable time .. ``LatestRestorableTime``); otherwise nothing is sent
        but the describe calls. ``dry_run`` stops after those checks and returns the plan.
        """
        _db_identifier(source_id, "source instance")
        _db_identifier(target_id, "target instance")
        if not isinstance(restore_time, dt.datetime) or restore_time.tzinfo is None:
            raise InvalidArgument("restore_time must be a timezone-aware datetime")
        restore_time = restore_time.astimezone(dt.UTC)
        now = clock.now()
        if restore_time > now:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is in the "
                f"future (now {now.isoformat(timespec='seconds')})"
            )
        with self._vendor_errors(f"describing DB instance {source_id}"):
            instance = self._rds.describe_db_instances(DBInstanceIdentifier=source_id)[
                "DBInstances"
            ][0]
        latest = instance.get("LatestRestorableTime")
        earliest = self._earliest_restorable_time(instance, now)
        if latest and restore_time > latest:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is after the latest restorable time "
                f"{latest.isoformat()} of {source_id}"
            )
        if earliest and restore_time < earliest:
            raise RestoreTimeOutOfRange(
                f"restore time {restore_time.isoformat()} is before the earliest restorable "
                f"time {earliest.isoformat()} of {source_id}"
            )
        plan = {
            "source_id": source_id,
            "target_id": target_id,
            "restore_time": restore_time.isoformat(),
            "earliest_restorable_time": _iso(earliest) or None,
            "latest_restorable_time": _iso(latest) or None,
            "instance_class": instance_class or instance.get("DBInstanceClass"),
            "dry_run": dry_run,
        }
        if dry_run:
            return plan
        extra = {"DBInstanceClass": instance_class} if instance_class else {}
        with self._vendor_errors(f"restoring {source_id} to {target_id}"):
            created = self._rds.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=source_id,
                TargetDBInstanceIdentifier=target_id,
                RestoreTime=restore_time,
                **extra,
            )["DBInstance"]
        return {
            **plan,
            "status": created.get("DBInstanceStatus", ""),
            "target_arn": created.get("DBInstanceArn", ""),
        }

    def _earliest_restorable_time(self, instance: dict, now: dt.datetime) -> dt.datetime | None:
        """AWS's restore window when it reports one, else creation time bounded by retention."""
        if instance.get("BackupRetentionPeriod") == 0:
            raise RestoreTimeOutOfRange(
                f"{instance['DBInstanceIdentifier']} has automated "
                "backups disabled: no point-in-time restore is possible"
            )
        with contextlib.suppress(ClientError, BotoCoreError):
            backups = self._rds.describe_db_instance_automated_backups(
                DBInstanceIdentifier=instance["DBInstanceIdentifier"]
            ).get("DBInstanceAutomatedBackups", [])
            windows = [
                b["RestoreWindow"]["EarliestTime"]
                for b in backups
                if b.get("RestoreWindow", {}).get("EarliestTime")
            ]
            if windows:
                return min(windows)
        created = instance.get("InstanceCreateTime")
        retention = instance.get("BackupRetentionPeriod")
        if created and retention:
            return max(created, now - dt.timedelta(days=retention))
        return created
