"""Run Django in a child process with a chosen environment (settings are read at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PASSTHROUGH = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH")


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
