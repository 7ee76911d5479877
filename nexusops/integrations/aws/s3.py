"""S3 (runbook 4.1, 4.3, 5.2): streamed multipart uploads with server-side encryption, object
versions and restoring one, and a report of a bucket's protection."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from nexusops.integrations.errors import VendorRejected

from .connection import Connection, iso, vendor_errors
from .errors import AwsNotFound, InvalidArgument

NOT_CONFIGURED = "not configured"
MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
MAX_PARTS = 10_000
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class Readable(Protocol):
    """What an upload reads from: a file, a pipe, or a stream that compresses as it goes."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """What a download writes to: a file, or a sink that decompresses into a process."""

    def write(self, data: bytes, /) -> int: ...


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


def _read_part(fileobj: Readable, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes return short reads)."""
    chunks, remaining = [], size
    while remaining:
        chunk = fileobj.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class S3Operations(Connection):
    def s3_upload_stream(
        self,
        bucket: str,
        key: str,
        fileobj: Readable,
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
        digest, size = hashlib.sha256(), 0
        parts: list[dict[str, Any]] = []
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
            with contextlib.suppress(*vendor_errors()):
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
        self, bucket: str, key: str, fileobj: Writable, version_id: str | None = None
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
                            last_modified=iso(v.get("LastModified")),
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
