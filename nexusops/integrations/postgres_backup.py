"""The runbook's manual PostgreSQL backup (4.1), streamed: ``pg_dump | gzip`` into S3.

``pg_dump`` has no library, so this is the one place NexusOps runs a subprocess. Its stdout is
compressed and uploaded part by part (:meth:`AwsClient.s3_upload_stream`), so a dump of any
size needs one upload part of memory. If ``pg_dump`` fails or runs past ``timeout``, the
stream raises before the upload completes and the multipart upload is aborted: no truncated
backup is ever left under the key.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import zlib
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from nexusops.common import clock
from nexusops.integrations.aws.client import AwsClient
from nexusops.integrations.errors import IntegrationError, NotConfigured

PG_DUMP = "pg_dump"
_CHUNK = 256 * 1024


class BackupFailed(IntegrationError):
    """pg_dump exited non-zero, timed out or could not be started; nothing was stored."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor="postgres", code="backup_failed")


class _GzipPipe:
    """A read()-able gzip stream of a process's stdout that fails if the process fails."""

    def __init__(self, process: subprocess.Popen, stderr: Any, timed_out: threading.Event):
        self._process, self._stderr, self._timed_out = process, stderr, timed_out
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = self._process.stdout.read(_CHUNK)
            if chunk:
                self._buffer += self._gzip.compress(chunk)
                continue
            self._buffer += self._gzip.flush()
            self._done = True
            self._check_exit()
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def _check_exit(self) -> None:
        code = self._process.wait()
        if self._timed_out.is_set():
            raise BackupFailed("pg_dump timed out and was stopped")
        if code != 0:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode(errors="replace").strip()
            raise BackupFailed(f"pg_dump exited with {code}: {tail}")


def _libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the password in ``PGPASSWORD`` (never in argv/ps)."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise NotConfigured(
            "database_url must be postgres://user@host:port/dbname", vendor="postgres"
        )
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(("postgresql", netloc, parts.path, parts.query, "")), env


def pg_dump_to_s3(
    database_url: str,
    bucket: str,
    key_prefix: str,
    aws_client: AwsClient,
    *,
    timeout: float = 3600.0,
) -> dict[str, Any]:
    """Dump ``database_url`` to ``s3://bucket/key_prefix/backup_YYYYmmdd_HHMMSS.sql.gz``.

    Returns ``{"bucket", "key", "version_id", "size", "sha256"}``; size and sha256 are of the
    gzip object as stored.
    """
    target, env = _libpq_target(database_url)
    key = f"{key_prefix.strip('/')}/backup_{clock.now():%Y%m%d_%H%M%S}.sql.gz".lstrip("/")
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [PG_DUMP, "--no-password", "--format=plain", f"--dbname={target}"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env={**os.environ, **env},
            )
        except OSError as exc:
            raise BackupFailed(f"cannot start {PG_DUMP}: {exc}") from exc

        def stop() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, stop)
        watchdog.start()
        try:
            stream = _GzipPipe(process, stderr, timed_out)
            uploaded = aws_client.s3_upload_stream(
                bucket, key, stream, content_type="application/gzip"
            )
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
    return {
        "bucket": bucket,
        "key": key,
        "version_id": uploaded.version_id,
        "size": uploaded.size,
        "sha256": uploaded.sha256,
    }
