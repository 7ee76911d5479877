"""Rendering deploy/kubernetes for the tests, and reading the rendered objects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
TARGETS = ("base", "overlays/production", "overlays/production-mattermost")
REMEDIATED = "nexus-production"  # the namespace the console remediates


def _kubectl() -> str | None:
    venv_kubectl = Path(sys.executable).parent / "kubectl"  # scripts/ci_manifests.sh's fallback
    return shutil.which("kubectl") or (str(venv_kubectl) if venv_kubectl.exists() else None)


@cache
def render(target: str) -> tuple[dict, ...]:
    kubectl = _kubectl()
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing in CI: scripts/ci_manifests.sh installs it")
        pytest.skip("needs kubectl (not on this machine; CI installs it, see ci_manifests.sh)")
    done = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZE / target)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(objects, kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind: str, name: str) -> dict:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads(objects) -> Iterator[dict]:
    for o in objects:
        if o["kind"] in ("Deployment", "Job", "CronJob"):
            yield o


def command_of(workload: dict) -> list[str]:
    (container,) = pod_spec(workload)["containers"]
    return container.get("command", [])


def queues_of(deployment: dict) -> set[str]:
    for arg in command_of(deployment):
        if arg.startswith("--queues="):
            return set(arg.split("=", 1)[1].split(","))
    return set()
