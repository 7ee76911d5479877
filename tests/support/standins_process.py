"""The demo's stand-ins as ``make run`` starts them (``python -m nexusops.standins``), in a child
process on a free port base, and the settings that point the console at them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexusops.standins import demo
from tests.support.subproc import ROOT

VENDOR_PORTS = sorted(demo.PORTS.values())


def _free_base() -> int:
    """A port base whose six demo ports are all free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1] - 1
        if base + len(VENDOR_PORTS) > 65000:
            continue
        ports = [p - demo.BASE_PORT + base for p in VENDOR_PORTS]
        try:
            for port in ports:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range for the stand-ins")


def _wait_listening(ports: list[int], proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stand-ins exited: {proc.stdout.read() if proc.stdout else ''}")
        for port in list(waiting):
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    waiting.discard(port)
        time.sleep(0.1)
    if waiting:
        raise RuntimeError(f"stand-ins not listening on {sorted(waiting)}")


@pytest.fixture(scope="module")
def standins(tmp_path_factory) -> Iterator[tuple[int, Path]]:
    """``python -m nexusops.standins`` (what the Procfile's ``standins`` runs)."""
    base = _free_base()
    var_dir = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "NEXUSOPS_STANDIN_PORT_BASE": str(base),
        "NEXUSOPS_VAR_DIR": str(var_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "nexusops.standins"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_listening([p - demo.BASE_PORT + base for p in VENDOR_PORTS], proc)
        yield base, var_dir
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def demo_settings(settings, standins):
    base, var_dir = standins
    settings.STANDIN_PORT_BASE = base
    settings.VAR_DIR = str(var_dir)
    for name, value in demo.settings_defaults(var_dir, base=base).items():
        setattr(settings, name, value)
    settings.KUBERNETES_NAMESPACE = "nexus-production"
    settings.STATUSPAGE_MIN_INTERVAL = 0
    return settings


def demo_env(base: int, var_dir: Path) -> dict[str, str]:
    """The environment a worker needs to reach these stand-ins, as ``make run`` gives it."""
    return {
        "NEXUSOPS_STANDINS": "1",
        "NEXUSOPS_STANDIN_PORT_BASE": str(base),
        "NEXUSOPS_VAR_DIR": str(var_dir),
    }
