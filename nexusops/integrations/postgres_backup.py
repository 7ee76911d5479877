"""The runbook's PostgreSQL backup (4.1) and restore (4.2), streamed through S3.

Backup is ``pg_dump --clean --if-exists | gzip`` into S3; restore is the reverse, S3 through
``gunzip`` into ``psql --single-transaction`` (:func:`s3_to_psql`). ``pg_dump`` and ``psql``
have no library equivalent for a plain SQL dump, so this is the one place NexusOps runs
subprocesses. Its stdout is
compressed and uploaded part by part (:meth:`AwsClient.s3_upload_stream`), so a dump of any
size needs one upload part of memory. If ``pg_dump`` fails or runs past ``timeout``, the
stream raises before the upload completes and the multipart upload is aborted: no truncated
backup is ever left under the key. The dump drops what it recreates (``--clean --if-exists``)
so it can be loaded over the database it came from (the rollback of a migration, runbook 1.2).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
import zlib
from typing import IO, Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from nexusops.common import clock
from nexusops.integrations.aws.client import AwsClient
from nexusops.integrations.errors import IntegrationError, NotConfigured

PG_DUMP = "pg_dump"
PSQL = "psql"
_CHUNK = 256 * 1024


class BackupFailed(IntegrationError):
    """pg_dump exited non-zero, timed out or could not be started; nothing was stored."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor="postgres", code="backup_failed")


class RestoreFailed(IntegrationError):
    """psql failed, timed out or could not start, or the object is not a gzip dump.

    The dump is loaded in one transaction and psql is killed before its input ends on any
    failure, so the database is left as it was.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor="postgres", code="restore_failed")


class _GzipPipe:
    """A read()-able gzip stream of a process's stdout that fails if the process fails."""

    def __init__(self, process: subprocess.Popen, stderr: Any, timed_out: threading.Event):
        self._process, self._stderr, self._timed_out = process, stderr, timed_out
        self._stdout = cast(IO[bytes], process.stdout)  # stdout=PIPE: never None
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = self._stdout.read(_CHUNK)
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
                [
                    PG_DUMP,
                    "--no-password",
                    "--format=plain",
                    "--clean",
                    "--if-exists",
                    f"--dbname={target}",
                ],
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
        stdout = cast(IO[bytes], process.stdout)  # stdout=PIPE: never None
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
            stdout.close()
    return {
        "bucket": bucket,
        "key": key,
        "version_id": uploaded.version_id,
        "size": uploaded.size,
        "sha256": uploaded.sha256,
    }


def database_label(database_url: str) -> str:
    """``dbname on host:port`` of a database URL: never its user or password."""
    parts = urlsplit(database_url)
    where = parts.hostname or "localhost"
    if parts.port:
        where = f"{where}:{parts.port}"
    return f"{parts.path.strip('/') or '(no database)'} on {where}"


class _GunzipPipe:
    """A write()-able sink for the S3 download: gunzips each chunk into psql's stdin.

    Output is produced ``_CHUNK`` bytes at a time, so memory stays bounded however well the
    dump compresses; concatenated gzip members are read one after the other.
    """

    def __init__(self, stdin: Any) -> None:
        self._stdin = stdin
        self._gunzip = zlib.decompressobj(31)
        self._fed = False  # has the current gzip member received any input?
        self.compressed = 0
        self.restored = 0

    def write(self, chunk: bytes) -> int:
        self.compressed += len(chunk)
        pending = bytes(chunk)
        try:
            while pending:
                self._fed = True
                self._feed(self._gunzip.decompress(pending, _CHUNK))
                if self._gunzip.eof:
                    pending = self._gunzip.unused_data
                    self._gunzip, self._fed = zlib.decompressobj(31), False
                else:
                    pending = self._gunzip.unconsumed_tail
        except zlib.error as exc:
            raise RestoreFailed(f"the object is not a gzip file ({exc})") from exc
        return len(chunk)

    def finish(self) -> None:
        """Everything arrived: flush, and refuse a truncated or empty object."""
        try:
            self._feed(self._gunzip.flush())
        except zlib.error as exc:
            raise RestoreFailed(f"the object is not a gzip file ({exc})") from exc
        if self._fed and not self._gunzip.eof:
            raise RestoreFailed("the gzip object ends early (truncated backup)")
        if not self.restored:
            raise RestoreFailed("the backup is empty")

    def _feed(self, data: bytes) -> None:
        if data:
            self._stdin.write(data)
            self.restored += len(data)


_TAG = re.compile(r"^([A-Z][A-Z ]*[A-Z])(?: (\d+))?(?: (\d+))?$")


def _psql_summary(stdout: str) -> dict[str, Any]:
    """Count psql's command tags (``CREATE TABLE``, ``COPY 2`` ...) into a short summary."""
    commands: dict[str, int] = {}
    rows = 0
    for line in stdout.splitlines():
        found = _TAG.match(line.strip())
        if not found:
            continue
        tag = found.group(1)
        commands[tag] = commands.get(tag, 0) + 1
        if tag == "COPY" and found.group(2):
            rows += int(found.group(2))
    return {"commands": commands, "rows_copied": rows}


def _kill(process: subprocess.Popen) -> None:
    """Stop psql before its stdin is closed: an EOF would commit a partial dump."""
    if process.poll() is None:
        process.kill()
    process.wait()


def s3_to_psql(
    database_url: str,
    bucket: str,
    key: str,
    aws_client: AwsClient,
    *,
    timeout: float = 3600.0,
    version_id: str | None = None,
) -> dict[str, Any]:
    """Load the gzip SQL dump ``s3://bucket/key`` into ``database_url`` (runbook 4.2).

    ``gunzip < backup.sql.gz | psql`` streamed: the object is downloaded chunk by chunk,
    decompressed and written to ``psql --set ON_ERROR_STOP=1 --single-transaction``; the
    password goes in ``PGPASSWORD``, never in argv. Returns ``{"bucket", "key", "version_id",
    "size" (gzip bytes), "restored_bytes" (SQL bytes), "database", "commands", "rows_copied",
    "output" (psql's stdout tail)}``. Raises :class:`RestoreFailed` with psql's stderr tail;
    then nothing was committed.
    """
    target, env = _libpq_target(database_url)
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [PSQL, "--no-password", "--no-psqlrc", "--set", "ON_ERROR_STOP=1",
                 "--single-transaction", f"--dbname={target}"],
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=stderr,
                env={**os.environ, **env},
            )  # fmt: skip
        except OSError as exc:
            raise RestoreFailed(f"cannot start {PSQL}: {exc}") from exc

        def stop() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, stop)
        watchdog.start()
        stdin = cast(IO[bytes], process.stdin)  # stdin=PIPE: never None
        sink = _GunzipPipe(stdin)
        downloaded: dict[str, Any] | None = None
        try:
            try:
                downloaded = aws_client.s3_download_stream(bucket, key, sink, version_id=version_id)
                sink.finish()
            except BrokenPipeError:
                downloaded = None  # psql stopped reading: its exit status says why
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            except BaseException:
                _kill(process)
                raise
            if downloaded is None:
                _kill(process)
            with contextlib.suppress(BrokenPipeError):
                stdin.close()
            code = process.wait()
        finally:
            watchdog.cancel()
            _kill(process)
            with contextlib.suppress(OSError):
                stdin.close()
        stderr.seek(0)
        tail = stderr.read()[-2000:].decode(errors="replace").strip()
        stdout.seek(0)
        out = stdout.read().decode(errors="replace")
    if timed_out.is_set():
        raise RestoreFailed(f"psql timed out after {timeout:g} s and was stopped; nothing restored")
    if code != 0 or downloaded is None:
        raise RestoreFailed(f"psql exited with {code}; nothing restored: {tail or '(no output)'}")
    return {
        "bucket": bucket,
        "key": key,
        "version_id": downloaded.get("version_id"),
        "size": downloaded.get("size") or sink.compressed,
        "restored_bytes": sink.restored,
        "database": database_label(database_url),
        **_psql_summary(out),
        "output": out[-4000:],
    }
