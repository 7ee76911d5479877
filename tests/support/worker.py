"""A real Celery worker in a child process, consuming the same broker and test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


# The old name, still imported by some conftests; never collected as a test.
worker_database_url.__test__ = False  # type: ignore[attr-defined]


@contextmanager
def table_locked(table: str, mode: str = "ACCESS EXCLUSIVE") -> Iterator[object]:
    """Another session holds ``table`` in ``mode`` on the test database (PostgreSQL) until the
    block ends; yields that session's connection."""
    import psycopg

    with psycopg.connect(worker_database_url()) as holder:
        holder.execute(f"LOCK TABLE {table} IN {mode} MODE")
        yield holder


test_database_url = worker_database_url


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class WorkerProcess:
    def __init__(
        self,
        queues: str = "default,notifications,remediation",
        *,
        extra_env: dict[str, str] | None = None,
        pool: str = "solo",
    ) -> None:
        # "prefork" (one child) where a test needs Celery's time limits: solo ignores them.
        self.pool = pool
        self.queues = queues
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(settings.VAR_DIR) / f"test-worker-{os.getpid()}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DATABASE_URL"] = worker_database_url()
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
        env["CELERY_BROKER_FOLDER"] = str(settings.CELERY_BROKER_FOLDER)
        env["NEXUSOPS_VAR_DIR"] = str(settings.VAR_DIR)
        env.pop("NEXUSOPS_MODE", None)
        env.update(self.extra_env)
        return env

    def start(self) -> WorkerProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "nexusops",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                self.pool,
                *(["--concurrency", "1"] if self.pool == "prefork" else []),
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, *, timeout: float = 15.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, as an OOM killer or a lost node would: no clean shutdown, no acks."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def await_ready(self, *, timeout: float = 60) -> WorkerProcess:
        """Wait until the worker has consumed a first task from the broker (a heartbeat row)."""
        import uuid

        from nexusops.common.models import WorkerHeartbeat
        from nexusops.common.tasks import heartbeat_record

        token = uuid.uuid4().hex
        heartbeat_record.delay(token=token)
        try:
            wait_for(
                lambda: WorkerHeartbeat.objects.filter(token=token).exists(),
                timeout=timeout,
                message="the worker to consume its first task",
            )
        except AssertionError:
            raise AssertionError("worker did not start:\n" + self.log_tail()) from None
        return self

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
