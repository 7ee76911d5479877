"""Imports point one way, down (README "Architecture"; DESIGN.md "Which way imports point").

Each domain app may import the apps listed before it in ``INSTALLED_APPS``, never one after it;
``nexusops/common``, ``nexusops/engine`` and ``nexusops/integrations`` import no domain app at
all. Read from the source with ``ast`` (imports inside functions count too), so a lazy import
that bends an arrow upward fails here as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BASE = ("nexusops/common", "nexusops/engine", "nexusops/integrations")


def _domain_apps() -> list[str]:
    return [a for a in settings.INSTALLED_APPS if (ROOT / a).is_dir() and "." not in a]


def _imported(folder: Path) -> set[tuple[str, str]]:
    """``(file, top-level package)`` for every absolute import under ``folder``."""
    found = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.add((str(path.relative_to(ROOT)), name.split(".")[0]))
    return found


def test_the_apps_are_the_floors_the_readme_draws():
    assert _domain_apps() == [
        "incidents",
        "chat",
        "oncall",
        "statuspage",
        "remediation",
        "postmortems",
        "deployments",
        "alerts",
        "accounts",
        "drills",
        "reports",
        "monitoring",
    ]


def test_no_app_imports_one_above_it():
    apps = _domain_apps()
    upward = [
        (path, package)
        for floor, app in enumerate(apps)
        for path, package in _imported(ROOT / app)
        if package in apps[floor + 1 :]
    ]
    assert upward == []


def test_the_base_knows_no_domain():
    apps = set(_domain_apps())
    found = [(p, pkg) for base in BASE for p, pkg in _imported(ROOT / base) if pkg in apps]
    assert found == []
