"""``CHAT_ARCHIVE_AFTER_HOURS`` sets every chat's archive delay; the older
``SLACK_ARCHIVE_AFTER_HOURS`` still works when the new name is not set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.CHAT_ARCHIVE_AFTER_HOURS)"
)


def _archive_hours(**env: str) -> float:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("ARCHIVE_AFTER_HOURS")}
    clean["DJANGO_SETTINGS_MODULE"] = "nexusops.settings"
    answer = subprocess.run(
        [sys.executable, "-c", READ],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(answer.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "hours"),
    [
        ({}, 24.0),
        ({"SLACK_ARCHIVE_AFTER_HOURS": "3"}, 3.0),
        ({"CHAT_ARCHIVE_AFTER_HOURS": "2", "SLACK_ARCHIVE_AFTER_HOURS": "3"}, 2.0),
    ],
)
def test_the_chat_name_wins_and_the_slack_name_is_the_fallback(env, hours):
    assert _archive_hours(**env) == hours
