"""Every environment variable the settings (and `make run`) read is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"(?:\benv(?:\.\w+)?|_vendor|environ(?:\.get)?)\(\s*\"([A-Z][A-Z0-9_]+)\"")
SOURCES = ["nexusops/settings.py", "nexusops/standins/demo.py", "scripts/preflight.py"]

pytestmark = pytest.mark.smoke


def variables_read() -> set[str]:
    names: set[str] = set()
    for source in SOURCES:
        names |= set(READ.findall((ROOT / source).read_text()))
    return names


def test_the_reader_finds_what_settings_read():
    names = variables_read()
    # A few we know are read, in each of the ways settings read them.
    assert {"SECRET_KEY", "SLACK_BOT_TOKEN", "NEXUSOPS_STANDIN_PORT_BASE", "PORT"} <= names


def test_every_variable_read_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in variables_read() if f"`{n}`" not in readme)
    assert not missing, f"README.md does not document: {', '.join(missing)}"
