"""The runbook's manual backup: a real pg_dump of a real PostgreSQL, gzip-streamed to moto S3."""

from __future__ import annotations

import gzip
import hashlib
import io
import re

import pytest

from nexusops.integrations.postgres_backup import BackupFailed, pg_dump_to_s3
from tests.support import worker

pytestmark = pytest.mark.postgres


def _bucket(boto) -> str:
    boto("s3").create_bucket(Bucket="nexus-backups")
    return "nexus-backups"


@pytest.mark.django_db
def test_pg_dump_streams_a_gzip_dump_to_s3(aws, boto):
    bucket = _bucket(boto)

    result = pg_dump_to_s3(worker.worker_database_url(), bucket, "manual", aws)

    assert re.fullmatch(r"manual/backup_\d{8}_\d{6}\.sql\.gz", result["key"])
    stored = io.BytesIO()
    meta = aws.s3_download_stream(bucket, result["key"], stored)
    body = stored.getvalue()
    assert (len(body), hashlib.sha256(body).hexdigest()) == (result["size"], result["sha256"])
    assert meta["sse"] == "AES256"
    dump = gzip.decompress(body).decode()
    assert "PostgreSQL database dump" in dump
    assert "CREATE TABLE public.django_migrations" in dump


def test_a_failed_dump_leaves_no_object(aws, boto):
    bucket = _bucket(boto)
    missing = "postgres://postgres@127.0.0.1:5432/nexusops_rem_no_such_database"

    with pytest.raises(BackupFailed, match="pg_dump exited with 1: .*does not exist"):
        pg_dump_to_s3(missing, bucket, "manual", aws)

    s3 = boto("s3")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
