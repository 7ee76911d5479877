"""The runbook's MongoDB backup (4.1) and its restore, streamed through S3 with pymongo.

The runbook runs ``mongodump --gzip --archive``; NexusOps does the same with the official
driver, so no MongoDB tools are needed on the worker. The dump is one gzip stream of BSON
records, uploaded part by part (:meth:`AwsClient.s3_upload_stream`), so memory holds one
upload part and one cursor batch whatever the database's size:

* a header ``{"t": "nexusops-mongo-dump", "v": 1, "database", "at"}``;
* per collection ``{"t": "collection", "name", "options", "indexes"}``, then for each cursor
  batch ``{"t": "batch", "name", "n", "bytes"}`` followed by the batch's raw BSON, exactly as
  the server sent it (``find_raw_batches``: no decode, so every BSON type survives);
* a trailer ``{"t": "end", "counts": {collection: documents}}``.

A dump that fails midway raises from the stream, which aborts the multipart upload: no
truncated object is ever stored. Collections are read one after the other without a
snapshot across them (as ``mongodump`` without ``--oplog``); views and ``system.*``
collections are skipped.

Restore downloads the object to a temporary file, checks the whole stream (header, every
record, the trailer's counts) before it writes anything, then, per collection, drops the
target collection, inserts the documents as raw BSON and recreates the indexes
(``mongorestore --drop``). It writes into ``target_database``, which may differ from the
dumped one (a restore drill into a scratch database).

pymongo and bson are imported where a dump or restore runs, not with this module: the
remediation actions import it at every process's start-up.
"""

from __future__ import annotations

import functools
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nexusops.common import clock
from nexusops.integrations.aws.client import AwsClient
from nexusops.integrations.errors import IntegrationError, NotConfigured

if TYPE_CHECKING:
    import bson
    from pymongo import MongoClient

VENDOR = "mongodb"
MAGIC = "nexusops-mongo-dump"
_DB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_CHUNK = 256 * 1024


class MongoBackupFailed(IntegrationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="backup_failed")


class MongoRestoreFailed(IntegrationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="restore_failed")


@functools.cache
def _raw() -> bson.CodecOptions:
    """Decode batches as raw BSON: every BSON type survives the round trip."""
    import bson
    from bson.raw_bson import RawBSONDocument

    return bson.CodecOptions(document_class=RawBSONDocument)


def database_name(value: str) -> str:
    """A MongoDB database name NexusOps accepts (letters, digits, ``_``, ``-``; ≤ 63)."""
    if not _DB_NAME.match(value or "") or value in ("admin", "local", "config"):
        raise ValueError(
            f"{value!r} is not a database to back up or restore into (letters, digits, _ and -, "
            "at most 63; not admin, local or config)"
        )
    return value


def _client(mongo_url: str, timeout: float) -> tuple[MongoClient, str]:
    parts = urlsplit(mongo_url or "")
    if parts.scheme not in ("mongodb", "mongodb+srv") or not parts.hostname:
        raise NotConfigured(
            "the MongoDB URL must be mongodb://[user:pass@]host[:port]/dbname", vendor=VENDOR
        )
    from pymongo import MongoClient

    client: MongoClient = MongoClient(
        mongo_url,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=5000,
        socketTimeoutMS=int(timeout * 1000),
        appname="nexusops-backup",
    )
    return client, parts.path.strip("/")


def _record(doc: dict) -> bytes:
    import bson

    return bson.encode(doc)


def _dump_records(client: MongoClient, database: str, counts: dict[str, int]) -> Iterator[bytes]:
    """The dump's records, in order; fills ``counts`` (documents per collection) as it goes."""
    import bson

    db = client[database]
    yield _record({"t": MAGIC, "v": 1, "database": database, "at": clock.now().isoformat()})
    for info in sorted(db.list_collections(), key=lambda c: c["name"]):
        name = info["name"]
        if info.get("type", "collection") != "collection" or name.startswith("system."):
            continue
        indexes = [dict(ix) for ix in db[name].list_indexes() if ix.get("name") != "_id_"]
        yield _record(
            {
                "t": "collection",
                "name": name,
                "options": info.get("options", {}),
                "indexes": indexes,
            }
        )
        counts[name] = 0
        for batch in db[name].find_raw_batches(sort=[("_id", 1)]):
            n = len(bson.decode_all(batch, _raw()))
            counts[name] += n
            yield _record({"t": "batch", "name": name, "n": n, "bytes": len(batch)})
            yield bytes(batch)
    yield _record({"t": "end", "counts": counts})


class _GzipRecords:
    """read()-able gzip of the dump records; a driver error surfaces as MongoBackupFailed."""

    def __init__(self, records: Iterator[bytes]) -> None:
        self._records = records
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        from pymongo.errors import PyMongoError

        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                record = next(self._records, None)
            except PyMongoError as exc:
                raise MongoBackupFailed(f"reading from MongoDB failed: {exc}") from exc
            if record is None:
                self._buffer += self._gzip.flush()
                self._done = True
            else:
                self._buffer += self._gzip.compress(record)
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


def mongo_dump_to_s3(
    mongo_url: str,
    bucket: str,
    key_prefix: str,
    aws_client: AwsClient,
    *,
    database: str = "",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Dump one database to ``s3://bucket/key_prefix/mongo_backup_YYYYmmdd_HHMMSS.bson.gz``.

    Returns ``{"bucket", "key", "version_id", "size", "sha256", "database", "counts"}``.
    """
    from pymongo.errors import PyMongoError

    client, from_url = _client(mongo_url, timeout)
    name = database_name(database or from_url)
    key = f"{key_prefix.strip('/')}/mongo_backup_{clock.now():%Y%m%d_%H%M%S}.bson.gz".lstrip("/")
    try:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            raise MongoBackupFailed(f"cannot reach MongoDB: {exc}") from exc
        counts: dict[str, int] = {}
        uploaded = aws_client.s3_upload_stream(
            bucket,
            key,
            _GzipRecords(_dump_records(client, name, counts)),
            content_type="application/gzip",
        )
    finally:
        client.close()
    return {
        "bucket": bucket,
        "key": key,
        "version_id": uploaded.version_id,
        "size": uploaded.size,
        "sha256": uploaded.sha256,
        "database": name,
        "counts": counts,
    }


class _GunzipFile:
    """write()-able: gunzips the download into a temporary file (bounded memory)."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self._gunzip = zlib.decompressobj(31)

    def write(self, chunk: bytes) -> int:
        try:
            self._target.write(self._gunzip.decompress(chunk))
        except zlib.error as exc:
            raise MongoRestoreFailed(f"the object is not a gzip file ({exc})") from exc
        return len(chunk)

    def finish(self) -> None:
        self._target.write(self._gunzip.flush())
        if not self._gunzip.eof:
            raise MongoRestoreFailed("the gzip object ends early (truncated backup)")


def _read_record(source: IO[bytes]) -> dict | None:
    import bson

    head = source.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise MongoRestoreFailed("the dump ends inside a record (truncated backup)")
    (length,) = struct.unpack("<i", head)
    body = source.read(length - 4)
    if length < 5 or len(body) != length - 4:
        raise MongoRestoreFailed("the dump ends inside a record (truncated backup)")
    try:
        return bson.decode(head + body)
    except bson.errors.BSONError as exc:
        raise MongoRestoreFailed(f"a record of the dump is not BSON ({exc})") from exc


def _walk(source: IO[bytes], apply: Any = None) -> dict[str, int]:
    """Read the whole dump; with ``apply(kind, record, raw)`` act on each record."""
    source.seek(0)
    try:
        header = _read_record(source)
    except MongoRestoreFailed:
        header = None
    if not header or header.get("t") != MAGIC or header.get("v") != 1:
        raise MongoRestoreFailed("the object is not a NexusOps MongoDB dump (no header)")
    counts: dict[str, int] = {}
    while (record := _read_record(source)) is not None:
        kind = record.get("t")
        if kind == "collection":
            counts[record["name"]] = 0
            if apply:
                apply("collection", record, b"")
        elif kind == "batch":
            raw = source.read(record["bytes"])
            if len(raw) != record["bytes"]:
                raise MongoRestoreFailed("the dump ends inside a batch (truncated backup)")
            counts[record["name"]] = counts.get(record["name"], 0) + record["n"]
            if apply:
                apply("batch", record, raw)
        elif kind == "end":
            if record.get("counts") != counts:
                raise MongoRestoreFailed(
                    f"the dump's trailer counts {record.get('counts')} documents, its "
                    f"batches hold {counts}"
                )
            return counts
        else:
            raise MongoRestoreFailed(f"unknown record {kind!r} in the dump")
    raise MongoRestoreFailed("the dump has no trailer (truncated backup)")


def s3_to_mongo(
    mongo_url: str,
    bucket: str,
    key: str,
    aws_client: AwsClient,
    *,
    target_database: str,
    version_id: str | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Restore a dump from :func:`mongo_dump_to_s3` into ``target_database`` (drop, insert,
    index). Nothing is written unless the whole object reads as a complete dump."""
    import bson
    from pymongo.errors import PyMongoError

    target = database_name(target_database)
    client, _ = _client(mongo_url, timeout)
    with tempfile.TemporaryFile() as spool:
        sink = _GunzipFile(spool)
        downloaded = aws_client.s3_download_stream(bucket, key, sink, version_id=version_id)
        sink.finish()
        counts = _walk(spool)  # the whole dump checks out before anything is written
        db = client[target]

        def apply(kind: str, record: dict, raw: bytes) -> None:
            name = record["name"]
            if kind == "collection":
                db.drop_collection(name)
                db.create_collection(name)
                for index in record.get("indexes", []):
                    spec = dict(index)
                    keys = list(spec.pop("key").items())
                    spec.pop("v", None), spec.pop("ns", None)
                    db[name].create_index(keys, **spec)
            elif record["n"]:
                db[name].insert_many(bson.decode_all(raw, _raw()), ordered=True)

        try:
            _walk(spool, apply)
        except PyMongoError as exc:
            raise MongoRestoreFailed(f"writing to MongoDB failed: {exc}") from exc
        finally:
            client.close()
    return {
        "bucket": bucket,
        "key": key,
        "version_id": downloaded.get("version_id"),
        "size": downloaded.get("size"),
        "database": target,
        "counts": counts,
    }
