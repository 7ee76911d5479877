"""The runbook's MongoDB backup (4.1): pymongo against a real server speaking MongoDB's wire
protocol, gzip-streamed to moto's S3 and restored.

The server is nx-27017 (PyPI; MongoDB's wire protocol over SQLite): MongoDB's own server
does not install from the registries this project reaches. What it does not do as MongoDB
does (it drops a Binary's subtype; no Decimal128) is noted in the README.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bson
import pytest
from pymongo import MongoClient

from nexusops.integrations.errors import NotConfigured
from nexusops.integrations.mongodb_backup import (
    MongoBackupFailed,
    MongoRestoreFailed,
    mongo_dump_to_s3,
    s3_to_mongo,
)
from tests.support.subproc import free_port

SERVER = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or shutil.which("nx-27017")
pytestmark = pytest.mark.skipif(SERVER is None, reason="nx-27017 (a dev dependency) is missing")


@pytest.fixture(scope="module")
def mongo_url(tmp_path_factory) -> Iterator[str]:
    port, folder = free_port(), tmp_path_factory.mktemp("nx27017")
    proc = subprocess.Popen(
        [SERVER, "--data-dir", str(folder), "--host", "127.0.0.1", "-p", str(port),
         "--log-file", str(folder / "log"), "--pid-file", str(folder / "pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            MongoClient(url, serverSelectionTimeoutMS=500).admin.command("ping")
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def mongo(mongo_url) -> Iterator[MongoClient]:
    client = MongoClient(mongo_url)
    for name in ("nexus", "nexus_restored"):
        client.drop_database(name)
    yield client
    client.close()


@pytest.fixture
def bucket(boto) -> str:
    boto("s3").create_bucket(Bucket="nexus-backups")
    return "nexus-backups"


def _fill(mongo: MongoClient, users: int = 2500) -> None:
    mongo.nexus.users.insert_many(
        {"name": f"user{i}", "n": i, "at": dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i),
         "tags": ["a", {"deep": [i, None]}], "blob": bson.Binary(bytes([i % 256]) * 3)}
        for i in range(users)
    )  # fmt: skip
    mongo.nexus.users.create_index("name", unique=True)
    mongo.nexus.videos.insert_one({"_id": "video_123", "size": 10**12})


def _docs(db, name: str) -> list:
    return list(db[name].find().sort("_id", 1))


def test_dump_streams_to_s3_and_restores_every_document_and_index(mongo, mongo_url, aws, bucket):
    _fill(mongo)

    done = mongo_dump_to_s3(f"{mongo_url}nexus", bucket, "manual", aws)

    assert done["counts"] == {"users": 2500, "videos": 1}
    assert done["key"].startswith("manual/mongo_backup_") and done["key"].endswith(".bson.gz")
    stored = io.BytesIO()
    aws.s3_download_stream(bucket, done["key"], stored)
    assert len(stored.getvalue()) == done["size"]
    assert gzip.decompress(stored.getvalue())[4:40].find(b"nexusops-mongo-dump") > 0

    restored = s3_to_mongo(mongo_url, bucket, done["key"], aws, target_database="nexus_restored")

    assert restored["counts"] == {"users": 2500, "videos": 1}
    assert _docs(mongo.nexus_restored, "users") == _docs(mongo.nexus, "users")
    assert _docs(mongo.nexus_restored, "videos") == [{"_id": "video_123", "size": 10**12}]
    indexes = {ix["name"]: ix for ix in mongo.nexus_restored.users.list_indexes()}
    assert any(ix.get("unique") and dict(ix["key"]) == {"name": 1} for ix in indexes.values())


def test_restore_replaces_what_the_target_holds(mongo, mongo_url, aws, bucket):
    _fill(mongo, users=3)
    done = mongo_dump_to_s3(mongo_url, bucket, "manual", aws, database="nexus")
    mongo.nexus_restored.users.insert_many([{"name": "stale"}, {"name": "stale2"}])

    s3_to_mongo(mongo_url, bucket, done["key"], aws, target_database="nexus_restored")

    assert sorted(d["name"] for d in mongo.nexus_restored.users.find()) == [
        "user0", "user1", "user2",
    ]  # fmt: skip


def test_a_truncated_or_foreign_object_restores_nothing(mongo, mongo_url, aws, bucket, boto):
    _fill(mongo, users=50)
    done = mongo_dump_to_s3(mongo_url, bucket, "manual", aws, database="nexus")
    whole = io.BytesIO()
    aws.s3_download_stream(bucket, done["key"], whole)
    raw = gzip.decompress(whole.getvalue())
    s3 = boto("s3")
    s3.put_object(Bucket=bucket, Key="cut.bson.gz", Body=gzip.compress(raw[: len(raw) - 40]))
    s3.put_object(Bucket=bucket, Key="other.bson.gz", Body=gzip.compress(b"SELECT 1;"))
    s3.put_object(Bucket=bucket, Key="plain.bson.gz", Body=b"not gzip at all")
    mongo.nexus_restored.keep.insert_one({"_id": 1})

    for key, why in [("cut.bson.gz", "truncated"), ("other.bson.gz", "not .* dump|not BSON"),
                     ("plain.bson.gz", "not a gzip")]:  # fmt: skip
        with pytest.raises(MongoRestoreFailed, match=why):
            s3_to_mongo(mongo_url, bucket, key, aws, target_database="nexus_restored")

    assert mongo.nexus_restored.list_collection_names() == ["keep"]


def test_bad_input_calls_nothing(aws, bucket, boto):
    with pytest.raises(NotConfigured, match="mongodb://"):
        mongo_dump_to_s3("postgres://localhost/nexus", bucket, "manual", aws)
    with pytest.raises(ValueError, match="not a database"):
        mongo_dump_to_s3("mongodb://127.0.0.1:1/", bucket, "manual", aws, database="admin")
    with pytest.raises(ValueError, match="not a database"):
        s3_to_mongo("mongodb://127.0.0.1:1/", bucket, "k.bson.gz", aws, target_database="a b")
    assert boto("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_an_unreachable_server_leaves_no_object(aws, bucket, boto, closed_port):
    with pytest.raises(MongoBackupFailed, match="cannot reach MongoDB"):
        mongo_dump_to_s3(f"mongodb://127.0.0.1:{closed_port}/nexus", bucket, "manual", aws,
                         timeout=1)  # fmt: skip
    s3 = boto("s3")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
