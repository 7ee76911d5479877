"""Server time of the reports dashboard over 100,000 incidents, on PostgreSQL.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/reports_bench.py              # builds fixtures once, measures
    .venv/bin/python bench/reports_bench.py --rebuild    # drop the fixtures and rebuild

It creates the database if needed (default
``postgres://postgres@127.0.0.1:5432/nexusops_reports_bench``), migrates it and bulk-creates
100,000 incidents over 500 days (P0-P3, 1-2 services, a commander and a responder each, a
required post-mortem for every P0/P1, an "escalated" timeline event for one in ten), then
requests ``/reports/`` for the whole year and for 90 days, signed in as a manager, with
Django's test client and ``DEBUG=false``. Goal: under 1 s server time. Results go in
bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nexusops_reports_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
os.environ.setdefault("NEXUSOPS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DEBUG", "false")

INCIDENTS = 100_000
PER_DAY = 200
BATCH = 5_000
MARK = "Reports bench"


def build(rebuild: bool):  # noqa: ANN201
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from incidents import seed
    from incidents.models import Incident, Service, Severity, Status, TimelineEvent
    from nexusops.common import roles
    from postmortems.models import PostMortem

    User = get_user_model()
    if rebuild:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE postmortems_postmortem, incidents_timelineevent, incidents_timer, "
                "incidents_checklistitem, incidents_incident_services, "
                "incidents_incident_responders, incidents_incident CASCADE"
            )
    seed.seed_catalog(lambda line: None)
    roles.roles_sync()
    people = []
    for i in range(12):
        user, _ = User.objects.get_or_create(username=f"bench-oncall{i}", first_name=f"On-call {i}")
        people.append(user)
    manager, _ = User.objects.get_or_create(username="bench-manager", first_name="Manager")
    manager.groups.set([Group.objects.get(name=roles.MANAGER)])
    if Incident.objects.filter(title__startswith=MARK).exists():
        print("fixtures already built (use --rebuild to start again)")
        return manager
    started = time.perf_counter()
    severities = list(Severity.objects.order_by("rank"))
    services = list(Service.objects.all())
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        for start in range(0, INCIDENTS, BATCH):
            rows = []
            for i in range(start, min(start + BATCH, INCIDENTS)):
                day = (today - dt.timedelta(days=1 + i // PER_DAY)).date()
                seq = i % PER_DAY + 1
                detected = dt.datetime.combine(day, dt.time(0), dt.UTC) + dt.timedelta(
                    minutes=seq * 7
                )
                sev = severities[i % len(severities)]
                ack = dt.timedelta(minutes=(i * 7) % (2 * sev.response_time.seconds // 60 + 1))
                rows.append(
                    Incident(
                        number=f"INC-{day:%Y%m%d}-{seq:03d}",
                        day=day,
                        seq=seq,
                        title=f"{MARK} #{i}",
                        severity=sev,
                        status=Status.CLOSED,
                        detected_at=detected,
                        acknowledged_at=detected + ack,
                        first_update_at=detected + dt.timedelta(minutes=5 + i % 20),
                        resolved_at=detected + dt.timedelta(minutes=30 + (i * 13) % 600),
                        closed_at=detected + dt.timedelta(hours=12),
                        commander=people[i % len(people)],
                        source="web",
                    )
                )
            created = Incident.objects.bulk_create(rows)
            Through = Incident.services.through
            Through.objects.bulk_create(
                Through(incident_id=r.pk, service_id=services[(r.pk + k) % len(services)].pk)
                for r in created
                for k in range(r.pk % 2 + 1)
            )
            Responders = Incident.responders.through
            Responders.objects.bulk_create(
                Responders(incident_id=r.pk, user_id=people[(r.pk + 5) % len(people)].pk)
                for r in created
            )
            PostMortem.objects.bulk_create(
                PostMortem(
                    incident=r,
                    required=True,
                    due_at=r.resolved_at + dt.timedelta(hours=48),
                    meeting_scheduled_at=None
                    if r.pk % 7 == 0
                    else r.resolved_at + dt.timedelta(hours=r.pk % 60),
                    created_at=r.resolved_at,
                    updated_at=r.resolved_at,
                )
                for r in created
                if r.severity.code in ("P0", "P1")
            )
            TimelineEvent.objects.bulk_create(
                TimelineEvent(
                    incident=r,
                    kind="escalated",
                    message="Escalated",
                    data={"tier": 1 + r.pk % 3},
                    created_at=r.detected_at + dt.timedelta(minutes=20),
                )
                for r in created
                if r.pk % 10 == 0
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{INCIDENTS:,} incidents in {time.perf_counter() - started:.1f}s")
    return manager


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from incidents_bench import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    manager = build(args.rebuild)
    client = Client()
    client.force_login(manager)
    today = dt.datetime.now(dt.UTC).date()
    cases = [
        ("dashboard, 365 days (~73,000 incidents)", today - dt.timedelta(days=364), today),
        ("dashboard, 90 days (~18,000 incidents)", today - dt.timedelta(days=89), today),
        ("dashboard, 500 days (all 100,000)", today - dt.timedelta(days=501), today),
    ]
    print("| case | p50 ms | p95 ms | max ms | SQL |\n|---|---:|---:|---:|---:|")
    for label, start, end in cases:
        url = f"/reports/?start={start}&end={end}"
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200, response.status_code
        times = []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"| {label} | {statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} | "
            f"{len(queries)} |"
        )


if __name__ == "__main__":
    main()
