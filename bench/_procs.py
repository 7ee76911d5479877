"""What the benchmarks that run the real servers share: start and stop process groups, wait,
recreate the bench database and Redis db, describe the machine, and read server CPU from /proc.

Not a benchmark itself (the leading underscore); ``alerts_bench.py`` and ``scaleout_bench.py``
import it. Every child starts in its own session, so stopping one stops its whole group
(the web server's main process and workers, a Celery worker's pool) and nothing else.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def sh(args: list[str], env: Mapping[str, str]) -> str:
    """Run to completion in the repository; stop the bench with its stderr if it fails."""
    done = subprocess.run(args, capture_output=True, text=True, env=dict(env), cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def reset_database(db_url: str, redis_url: str, env: Mapping[str, str], seed: str) -> None:
    """Drop and recreate the bench database, flush its Redis db, migrate, run ``seed``."""
    import psycopg
    import redis

    parts = urlparse(db_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(redis_url).flushdb()
    sh([PY, "manage.py", "migrate", "--noinput"], env)
    sh([PY, "-c", seed], env)


def start(args: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """A child in its own session (so its whole group can be stopped), output to ``log``."""
    out = open(log, "w")  # noqa: SIM115 - lives with the child
    return subprocess.Popen(
        args, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM each child's group, then SIGKILL what is still there after ``timeout``."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.3
) -> float:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - t0


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    mem = int(next(ln.split()[1] for ln in open("/proc/meminfo") if ln.startswith("MemTotal")))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": mem // 1024 // 1024,
        "linux": platform.release(),
        "python": platform.python_version(),
    }


# --- server CPU from /proc ------------------------------------------------------------------
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _group(pgid: int) -> list[int]:
    """Every process of a process group (the web server's processes; a Celery worker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return pids


class Cpu:
    """Server CPU in ms, per part: each named process group, and ``postgres``, the backends
    connected to the bench database (found through pg_stat_activity; this object's own two
    connections excluded). A thread reads /proc every 0.2 s and keeps the last reading of every
    process it has seen, so a backend that ends during a run (Django recycles connections after
    CONN_MAX_AGE) still counts, short of its last 0.2 s. PostgreSQL's shared background
    processes (WAL writer, checkpointer) serve every database on a shared server and are not
    counted."""

    POLL_SECONDS = 0.2

    def __init__(self, db_url: str, groups: Mapping[str, subprocess.Popen]) -> None:
        import psycopg

        self.db_name = urlparse(db_url).path.lstrip("/")
        self.groups = {name: proc.pid for name, proc in groups.items()}
        self.conn = psycopg.connect(db_url, autocommit=True)
        self.poll_conn = psycopg.connect(db_url, autocommit=True)
        self.own = [
            c.execute("SELECT pg_backend_pid()").fetchone()[0] for c in (self.conn, self.poll_conn)
        ]
        self.seen: dict[str, dict[int, int]] = {name: {} for name in [*self.groups, "postgres"]}
        self.lock = threading.Lock()
        self._poll()
        threading.Thread(target=self._run, daemon=True).start()

    def _backends(self) -> list[int]:
        rows = self.poll_conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND NOT pid = ANY(%s)",
            (self.db_name, self.own),
        ).fetchall()
        return [r[0] for r in rows]

    def _poll(self) -> None:
        found = {name: _group(pgid) for name, pgid in self.groups.items()}
        found["postgres"] = self._backends()
        with self.lock:
            for part, pids in found.items():
                for pid in pids:
                    if ticks := _ticks(pid):
                        self.seen[part][pid] = ticks

    def _run(self) -> None:
        while True:
            time.sleep(self.POLL_SECONDS)
            try:
                self._poll()
            except Exception:  # noqa: BLE001 - the bench is ending
                return

    def sample(self) -> dict[str, dict[int, int]]:
        self._poll()
        with self.lock:
            return {part: dict(pids) for part, pids in self.seen.items()}

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float]:
        """ms of CPU per part between two samples (a process new since ``before`` counts whole)."""
        ms = {}
        for part, now in after.items():
            then = before.get(part, {})
            ticks = sum(max(0, t - then.get(p, 0)) for p, t in now.items())
            ms[part] = ticks * 1000.0 / CLK_TCK
        ms["total"] = sum(ms.values())
        return ms
