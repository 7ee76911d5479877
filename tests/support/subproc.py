"""Run Django in a child process with a chosen environment (settings are read at import), and
find a port for a child server to listen on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PASSTHROUGH = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH")


def free_port() -> int:
    """A loopback port nobody listens on (once the probe is closed) for a child to bind."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_django(
    code: str, env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess:
    child_env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    child_env["DJANGO_SETTINGS_MODULE"] = "nexusops.settings"
    child_env.update(env)
    script = "import django\ndjango.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    child_env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
