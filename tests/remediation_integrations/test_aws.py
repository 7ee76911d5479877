"""The AWS adapter with boto3 against moto's real server over HTTP (runbook 4.1-4.3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import time

import pytest

from nexusops.common import clock
from nexusops.integrations.aws import (
    NOT_CONFIGURED,
    AwsClient,
    AwsNotFound,
    InvalidArgument,
    RestoreTimeOutOfRange,
)
from nexusops.integrations.errors import VendorUnavailable

MIB = 1024 * 1024


def _versioned_bucket(boto, name: str = "nexus-media", region: str = "us-east-1") -> str:
    s3 = boto("s3", region)
    where = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=name, **where)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _download(aws: AwsClient, bucket: str, key: str, version_id: str | None = None):
    out = io.BytesIO()
    meta = aws.s3_download_stream(bucket, key, out, version_id=version_id)
    return out.getvalue(), meta


def test_multipart_upload_with_server_side_encryption(aws, boto):
    bucket = _versioned_bucket(boto, "nexus-backups")
    data = random.Random(7).randbytes(6 * MIB + 123)

    result = aws.s3_upload_stream(bucket, "manual/blob.bin", io.BytesIO(data), part_size=5 * MIB)

    assert (result.parts, result.size) == (2, len(data))
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    body, meta = _download(aws, bucket, "manual/blob.bin")
    assert body == data and meta["sse"] == "AES256"
    assert boto("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_failing_stream_aborts_the_upload(aws, boto):
    bucket = _versioned_bucket(boto, "nexus-backups")

    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("producer died")

    with pytest.raises(OSError, match="producer died"):
        aws.s3_upload_stream(bucket, "manual/broken.bin", Broken())

    s3 = boto("s3")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_list_versions_and_restore_an_old_one(aws, boto):
    bucket, key = _versioned_bucket(boto), "uploads/video_123.mp4"
    first = aws.s3_upload_stream(bucket, key, io.BytesIO(b"original video"))
    time.sleep(0.01)
    second = aws.s3_upload_stream(bucket, key, io.BytesIO(b"corrupted"))
    aws.s3_upload_stream(bucket, "uploads/video_1234.mp4", io.BytesIO(b"another key"))

    versions = aws.list_object_versions(bucket, key)
    assert [v.version_id for v in versions] == [second.version_id, first.version_id]
    assert [v.is_latest for v in versions] == [True, False]

    preview = aws.restore_object_version(bucket, key, first.version_id, dry_run=True)
    assert preview["replaces_version"] == second.version_id
    assert _download(aws, bucket, key)[0] == b"corrupted"

    restored = aws.restore_object_version(bucket, key, first.version_id)

    assert _download(aws, bucket, key)[0] == b"original video"
    versions = aws.list_object_versions(bucket, key)
    assert len(versions) == 3 and versions[0].version_id == restored["version_id"]
    assert _download(aws, bucket, key, second.version_id)[0] == b"corrupted"  # kept
    with pytest.raises(AwsNotFound):
        aws.restore_object_version(bucket, key, "no-such-version")


def test_bucket_report_of_a_bare_bucket(aws, boto):
    boto("s3").create_bucket(Bucket="nexus-bare")

    report = aws.bucket_report("nexus-bare")

    for part in ("policy", "versioning", "lifecycle", "replication"):
        assert report[part] == NOT_CONFIGURED
    assert len(report["findings"]) == 3
    with pytest.raises(AwsNotFound):
        aws.bucket_report("nexus-missing")


def test_bucket_report_of_a_protected_bucket(aws, boto):
    bucket = _versioned_bucket(boto)
    replica = _versioned_bucket(boto, "nexus-media-dr", region="eu-west-1")
    s3 = boto("s3")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "glacier-after-90-days",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
                }
            ]
        },
    )
    s3.put_bucket_replication(
        Bucket=bucket,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "to-eu-west-1",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{replica}"},
                }
            ],
        },
    )

    report = aws.bucket_report(bucket)

    assert report["policy"] == policy
    assert report["versioning"] == "Enabled"
    assert report["lifecycle"][0]["Transitions"][0]["StorageClass"] == "GLACIER"
    assert report["replication"]["Rules"][0]["Destination"]["Bucket"].endswith(replica)
    assert report["findings"] == []


def _instance(boto, name: str = "nexus-prod-db") -> dict:
    return boto("rds").create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        MasterUsername="postgres",
        MasterUserPassword="not-a-secret-1",
        BackupRetentionPeriod=7,
    )["DBInstance"]


def test_rds_point_in_time_restore_validates_the_time(aws, boto):
    created = _instance(boto)["InstanceCreateTime"]
    now = clock.now()

    with pytest.raises(RestoreTimeOutOfRange, match="in the future"):
        aws.rds_restore_to_point_in_time(
            "nexus-prod-db", "nexus-prod-db-pitr", now + dt.timedelta(minutes=10)
        )
    with pytest.raises(RestoreTimeOutOfRange, match="before the earliest restorable time"):
        aws.rds_restore_to_point_in_time(
            "nexus-prod-db", "nexus-prod-db-pitr", created - dt.timedelta(hours=1)
        )
    with (
        clock.frozen(now + dt.timedelta(hours=1)),
        pytest.raises(RestoreTimeOutOfRange, match="after the latest restorable time"),
    ):
        aws.rds_restore_to_point_in_time(
            "nexus-prod-db", "nexus-prod-db-pitr", now + dt.timedelta(minutes=30)
        )
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        aws.rds_restore_to_point_in_time(
            "nexus-prod-db", "nexus-prod-db-pitr", dt.datetime(2026, 1, 1)
        )
    with pytest.raises(InvalidArgument):
        aws.rds_restore_to_point_in_time("nexus-prod-db", "bad--name", now)
    with pytest.raises(AwsNotFound):
        aws.rds_restore_to_point_in_time("nexus-missing-db", "nexus-prod-db-pitr", now)

    plan = aws.rds_restore_to_point_in_time(
        "nexus-prod-db", "nexus-prod-db-pitr", now, dry_run=True
    )
    assert plan["dry_run"] and plan["instance_class"] == "db.r6g.large"
    assert boto("rds").describe_db_instances()["DBInstances"][-1]["DBInstanceIdentifier"] == (
        "nexus-prod-db"
    )

    done = aws.rds_restore_to_point_in_time("nexus-prod-db", "nexus-prod-db-pitr", now)

    assert done["target_id"] == "nexus-prod-db-pitr" and done["status"]
    identifiers = {
        i["DBInstanceIdentifier"] for i in boto("rds").describe_db_instances()["DBInstances"]
    }
    assert identifiers == {"nexus-prod-db", "nexus-prod-db-pitr"}


def test_unreachable_endpoint_is_vendor_unavailable(closed_port, moto_url):
    client = AwsClient(endpoint_url=f"http://127.0.0.1:{closed_port}", max_attempts=1)
    started = time.monotonic()
    with pytest.raises(VendorUnavailable):
        client.bucket_report("nexus-media")
    assert time.monotonic() - started < 5
