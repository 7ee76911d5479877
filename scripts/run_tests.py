"""`make test`: run the whole suite on PostgreSQL and Redis when they are there.

DATABASE_URL / CELERY_BROKER_URL win when set. Otherwise PostgreSQL on 127.0.0.1:5432 and
Redis on 127.0.0.1:6379 are used if they answer, and the embedded defaults (SQLite, the
filesystem broker) if not; then the PostgreSQL-only tests are reported as skipped.
NEXUSOPS_TEST_EMBEDDED=1 forces the embedded defaults (CI's smoke run).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    env = os.environ
    env.pop("NEXUSOPS_MODE", None)  # the suite runs in embedded mode with overrides
    var = ROOT / "var"
    env.setdefault("NEXUSOPS_VAR_DIR", str(var))
    if env.get("NEXUSOPS_TEST_EMBEDDED") == "1":
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
    else:
        if not env.get("DATABASE_URL") and answers(5432):
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/nexusops"
        if not env.get("CELERY_BROKER_URL") and answers(6379):
            # A database of its own, flushed by the suite; never the one `make run` uses.
            env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/15"
    env.setdefault("CELERY_BROKER_FOLDER", str(var / "test-broker"))
    print(
        f"tests on database={env.get('DATABASE_URL', 'sqlite (embedded)')} "
        f"broker={env.get('CELERY_BROKER_URL', 'filesystem (embedded)')}",
        flush=True,
    )
    os.chdir(ROOT)
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])


if __name__ == "__main__":
    main()
