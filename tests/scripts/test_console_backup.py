"""scripts/console_backup.py on PostgreSQL: a dump of the console's real schema with its
incidents, restored by the drill into a scratch database, every row count checked; a dump
whose counts do not match fails the drill and names the table."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from incidents.models import Incident, TimelineEvent
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "console_backup.py"

pytestmark = pytest.mark.postgres


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.fixture
def source_url() -> str:
    return _url(connection.settings_dict["NAME"])


@pytest.fixture
def scratch_url():
    name = f"{connection.settings_dict['NAME']}_drill"
    yield _url(name)
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300
    )


def _old_dumps(directory: Path, *days_ago: int) -> None:
    for days in days_ago:
        stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ")
        (directory / f"nexusops-{stamp}.dump").write_bytes(b"old")
        (directory / f"nexusops-{stamp}.counts.json").write_text("{}")


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_with_every_row_count_as_dumped(tmp_path, source_url, scratch_url):
    _old_dumps(tmp_path, 20, 21, 3)  # two past --keep-days, one within
    for n in range(3):
        factories.incident(title=f"Backup drill incident {n}")
    numbers = sorted(Incident.objects.values_list("number", flat=True))

    dumped = run("dump", f"--dir={tmp_path}", "--keep-days=14", database_url=source_url)
    assert dumped.returncode == 0, dumped.stderr
    assert "pruned 2 dumps older than 14 days" in dumped.stdout
    assert len(list(tmp_path.glob("*.counts.json"))) == 2
    dump = sorted(tmp_path.glob("nexusops-*.dump"))[-1]  # the drill takes the newest
    counts = json.loads(dump.with_name(dump.stem + ".counts.json").read_text())["tables"]
    assert counts["public.incidents_incident"] == 3
    assert counts["public.incidents_timelineevent"] == TimelineEvent.objects.count() >= 3
    assert counts["public.django_migrations"] > 50

    drilled = run(
        "drill", f"--dir={tmp_path}", f"--scratch={scratch_url}", "--keep", database_url=source_url
    )
    assert drilled.returncode == 0, drilled.stderr
    assert "restore drill passed" in drilled.stdout
    assert f"{len(counts)} tables" in drilled.stdout
    with psycopg.connect(scratch_url) as conn:
        restored = conn.execute("SELECT number FROM incidents_incident ORDER BY number").fetchall()
    assert [r[0] for r in restored] == numbers


@pytest.mark.django_db(transaction=True)
def test_the_drill_fails_and_names_a_table_whose_count_differs(tmp_path, source_url, scratch_url):
    factories.incident()
    assert run("dump", f"--dir={tmp_path}", database_url=source_url).returncode == 0
    (manifest,) = tmp_path.glob("nexusops-*.counts.json")
    data = json.loads(manifest.read_text())
    data["tables"]["public.incidents_incident"] += 1  # the dump lost a row
    data["tables"]["public.gone_table"] = 4
    manifest.write_text(json.dumps(data))

    drilled = run("drill", f"--dir={tmp_path}", f"--scratch={scratch_url}", database_url=source_url)
    assert drilled.returncode == 1
    assert "public.incidents_incident: 2 rows in the dump, 1 restored" in drilled.stderr
    assert "public.gone_table: in the dump, not restored" in drilled.stderr


def test_the_drill_refuses_the_consoles_own_database(tmp_path):
    _old_dumps(tmp_path, 1)
    own = "postgres://postgres@127.0.0.1:5432/nexusops"
    drilled = run("drill", f"--dir={tmp_path}", f"--scratch={own}", database_url=own)
    assert drilled.returncode == 1
    assert "refusing to drill into the console's own database" in drilled.stderr
