"""Server time and SQL queries of the incident pages and API, on PostgreSQL, at scale.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/incidents_bench.py                     # 100,000 incidents
    .venv/bin/python bench/incidents_bench.py --incidents 200000  # the second size
    .venv/bin/python bench/incidents_bench.py --rebuild           # drop the fixtures and rebuild
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/incidents_bench.py

Each size has its own database (``nexusops_bench_100k``, ``nexusops_bench_200k``) unless
DATABASE_URL says otherwise. The script creates it if it does not exist, migrates it,
bulk-creates three incidents with 50, 5,000 and 20,000 timeline events and N incidents for
the list, then requests each URL ~50 times with Django's test client, signed in as an
incident commander. Times are the whole Django stack in process (middleware, auth, view,
serializer, rendering), no network. Deep pages start at row 50,000 (page 1,000 of 50): by
cursor where the list pages by cursor (made before timing), else ``?page=``, so the script
also measures the build before cursors. Goal (issue 15): the list, search and API list at
p95 under 100 ms, the command page the same at 50 and 20,000 events. Results go in
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
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
os.environ.setdefault("NEXUSOPS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DEBUG", "false")  # production-like: no debug toolbar of queries kept

TIMELINES = (50, 5_000, 20_000)


def timeline_title(events: int) -> str:
    return f"Bench: command page with {events:,} events"


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def build_fixtures(rebuild: bool, big_list: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from incidents import seed
    from incidents.models import (
        ChecklistItem,
        Incident,
        IncidentDaySequence,
        Service,
        Severity,
        Status,
        TimelineEvent,
    )
    from incidents.services import incident_declare
    from nexusops.common import roles
    from nexusops.engine.models import Timer

    User = get_user_model()
    if rebuild:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE incidents_timelineevent, incidents_checklistitem, incidents_timer, "
                "incidents_incident_services, incidents_incident_responders, "
                "incidents_incident, incidents_incidentdaysequence CASCADE"
            )
    seed.seed_catalog(lambda line: None)
    roles.roles_sync()
    ics = []
    for i in range(5):
        user, _ = User.objects.get_or_create(username=f"bench-ic{i}", first_name=f"IC {i}")
        user.groups.set([Group.objects.get(name=roles.INCIDENT_COMMANDER)])
        ics.append(user)
    ic = ics[0]

    if Incident.objects.filter(title=timeline_title(TIMELINES[-1])).exists():
        print("fixtures already built (use --rebuild to start again)")
    else:
        started = time.perf_counter()
        severities = list(Severity.objects.order_by("rank"))
        services = list(Service.objects.all())
        today = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        # 100,000 past incidents, 200 a day going back; 1 in 100 still open.
        per_day = 200
        batch = 5_000
        with transaction.atomic():
            for start in range(0, big_list, batch):
                rows = []
                for i in range(start, min(start + batch, big_list)):
                    day = (today - dt.timedelta(days=1 + i // per_day)).date()
                    seq = i % per_day + 1
                    detected = dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(
                        minutes=seq * 7
                    )
                    is_open = i % 100 == 0
                    rows.append(
                        Incident(
                            number=f"INC-{day:%Y%m%d}-{seq:03d}",
                            day=day,
                            seq=seq,
                            title=f"{services[i % len(services)].name} errors #{i}",
                            summary="Synthetic incident for the benchmark.",
                            severity=severities[i % len(severities)],
                            status=Status.INVESTIGATING if is_open else Status.CLOSED,
                            detected_at=detected,
                            acknowledged_at=detected + dt.timedelta(minutes=4),
                            resolved_at=None if is_open else detected + dt.timedelta(hours=1),
                            closed_at=None if is_open else detected + dt.timedelta(hours=2),
                            commander=ics[i % len(ics)],
                            source="web",
                        )
                    )
                created = Incident.objects.bulk_create(rows)
                Through = Incident.services.through
                Through.objects.bulk_create(
                    Through(incident_id=row.pk, service_id=services[(row.pk + k) % 10].pk)
                    for row in created
                    for k in range(row.pk % 2 + 1)
                )
            IncidentDaySequence.objects.bulk_create(
                [
                    IncidentDaySequence(day=(today - dt.timedelta(days=1 + d)).date(), last=per_day)
                    for d in range(big_list // per_day)
                ],
                ignore_conflicts=True,
            )
        print(f"{big_list:,} incidents in {time.perf_counter() - started:.1f}s")

        for events in TIMELINES:
            inc = incident_declare(
                title=timeline_title(events),
                severity="P1",
                services=["api-gateway", "postgresql"],
                actor=ic,
                commander=ic,
            )
            inc.responders.set(ics[1:])
            base = inc.detected_at
            TimelineEvent.objects.bulk_create(
                TimelineEvent(
                    incident=inc,
                    kind=("note", "update", "status_changed", "checklist")[n % 4],
                    actor=ics[n % len(ics)],
                    actor_name=ics[n % len(ics)].first_name,
                    channel="web",
                    message=f"Event {n}: checked the dashboards, p99 latency still high.",
                    data={"n": n},
                    visibility="internal" if n % 4 in (0, 3) else "public",
                    created_at=base + dt.timedelta(seconds=n),
                )
                for n in range(events - 1)  # plus "declared"
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    numbers = {
        events: Incident.objects.get(title=timeline_title(events)).number for events in TIMELINES
    }
    print(
        f"incidents: {Incident.objects.count():,}; timeline events: "
        f"{TimelineEvent.objects.count():,}; checklist items: {ChecklistItem.objects.count():,}; "
        f"timers: {Timer.objects.count():,}"
    )
    return {"ic": ic, "numbers": numbers}


def page_url(name: str, **kwargs) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


DEEP = 50_000  # "page 1,000" of 50


def deep_url(base: str, params: dict, position: int, *, api: bool = False, back=False) -> str:
    """The page that starts at row ``position``: by cursor where the list pages by cursor
    (the cursor is made here, outside the timing), else by page number (before cursors)."""
    try:
        from nexusops.common import keyset
    except ImportError:  # the build before cursor paging: ?page=
        number = position // 50 + 1 - (1 if back else 0)
        return f"{base}?{urlencode({**params, 'page': number})}"
    from incidents.selectors import incident_list

    sort = params.get("ordering") or params.get("sort") or ""
    filters = {k: v for k, v in params.items() if k not in ("ordering", "sort")}
    queryset = incident_list(**filters, sort=sort)
    cursor = keyset.cursor_at(queryset, position)
    if back:  # "Newer" from that page: the previous cursor the page itself links to
        cursor = keyset.page(queryset, cursor=cursor, size=50).previous
    return f"{base}?{urlencode({**params, 'cursor': cursor})}"


def api_timeline_deep(number: str, position: int) -> str:
    """The API timeline page that starts at event ``position``: by cursor where the endpoint
    pages by cursor (made here, outside the timing), else ``?page=`` (the build before)."""
    from django.test import Client

    from incidents.models import Incident, TimelineEvent

    base = f"/api/incidents/{number}/timeline/"
    incident = Incident.objects.get(number=number)
    try:
        from nexusops.common import keyset
    except ImportError:
        return f"{base}?page={position // 50 + 1}"
    events = TimelineEvent.objects.filter(incident=incident).order_by("-created_at", "-id")
    probe = Client()
    probe.force_login(incident.commander)
    if "cursor" not in (probe.get(base).json().get("next") or ""):
        return f"{base}?page={position // 50 + 1}"
    return f"{base}?{urlencode({'cursor': keyset.cursor_at(events, position)})}"


def older_events_case(number: str) -> tuple[str, str | None]:
    """The command page's timeline, the older page that starts halfway down its events."""
    from incidents.models import Incident, TimelineEvent

    incident = Incident.objects.get(number=number)
    events = TimelineEvent.objects.filter(incident=incident).order_by("-created_at", "-id")
    halfway = events.count() // 2
    before = events.values_list("id", flat=True)[halfway]
    url = page_url("incident-timeline", number=number)
    return (f"timeline older page at {halfway:,} events", url and f"{url}?before={before}")


TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu() -> tuple[int | None, float]:
    """(pid, CPU seconds so far) of this connection's PostgreSQL backend, from /proc."""
    from django.db import connection

    raw = getattr(connection, "connection", None)
    pid = getattr(getattr(raw, "info", None), "backend_pid", None)
    if pid is None:
        return None, 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None, 0.0
    return pid, (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def measure(client, url: str, requests: int) -> dict:
    """Wall time per request, and the server's CPU per request: this process (the whole
    Django stack) plus its PostgreSQL backend, read from /proc. On a loaded machine the wall
    time includes waiting for a core; the CPU is what the request itself costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches, imports and the connection
        response = client.get(url)
    if response.status_code != 200:
        return {"url": url, "error": f"HTTP {response.status_code}"}
    times, queries, cpu, counted = [], [], 0.0, 0
    for _ in range(requests):
        pid, db_before = backend_cpu()
        with CaptureQueriesContext(connection) as ctx:
            cpu_before = time.process_time()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            app_cpu = time.process_time() - cpu_before
        pid_after, db_after = backend_cpu()
        if pid is not None and pid == pid_after:  # the same backend served it
            cpu += app_cpu + db_after - db_before
            counted += 1
        queries.append(len(ctx.captured_queries))
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "url": url,
        "p50": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "max": times[-1],
        "cpu": cpu / counted * 1000 if counted else float("nan"),
        "queries": max(queries),
        "kb": len(response.content) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the fixtures")
    parser.add_argument("--incidents", type=int, default=100_000, help="rows for the list")
    args = parser.parse_args()
    size = f"{args.incidents // 1000}k"
    os.environ.setdefault(
        "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/nexusops_bench_{size}"
    )

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's response hooks; the database stays as is
    fx = build_fixtures(args.rebuild, args.incidents)
    client = Client()
    client.force_login(fx["ic"])

    cases: list[tuple[str, str | None]] = []
    for events, number in fx["numbers"].items():
        cases += [
            (f"command page, {events:,} events", page_url("incident-detail", number=number)),
            (f"API incident, {events:,} events", f"/api/incidents/{number}/"),
            (f"API timeline p1, {events:,} events", f"/api/incidents/{number}/timeline/"),
        ]
    cases.append(older_events_case(fx["numbers"][TIMELINES[-1]]))
    deepest = fx["numbers"][TIMELINES[-1]]
    cases.append(("API timeline at 10,000 events", api_timeline_deep(deepest, 10_000)))
    listing = page_url("incident-list")
    combined = {"q": "billing", "status": "closed", "severity": "P2"}
    cases += [
        (f"list page, {size}", listing),
        (f"list page open, {size}", f"{listing}?status=open"),
        (f"list search, {size}", f"{listing}?q=billing"),
        (f"list search+filters, {size}", f"{listing}?{urlencode(combined)}"),
        (f"list row 50,000, {size}", deep_url(listing, {}, DEEP)),
        (f"list search row 900, {size}", deep_url(listing, {"q": "billing"}, 900)),
        (f"list by severity, {size}", f"{listing}?sort=severity"),
        (f"list by severity row 50,000, {size}", deep_url(listing, {"sort": "severity"}, DEEP)),
        (f"list oldest row 50,000, {size}", deep_url(listing, {"sort": "oldest"}, DEEP)),
        (f"API list, {size}", "/api/incidents/"),
        (f"API list open, {size}", "/api/incidents/?status=open"),
        (f"API list P1 by SLA, {size}", "/api/incidents/?severity=P1&ordering=sla"),
        (f"API list search, {size}", "/api/incidents/?q=billing"),
        (f"API search+filters, {size}", f"/api/incidents/?{urlencode(combined)}"),
        (f"API list row 50,000, {size}", deep_url("/api/incidents/", {}, DEEP, api=True)),
        (f"API row 50,000 newer, {size}", deep_url("/api/incidents/", {}, DEEP, back=True)),
        (f"API list by severity, {size}", "/api/incidents/?ordering=severity"),
        (
            f"API severity row 50,000, {size}",
            deep_url("/api/incidents/", {"ordering": "severity"}, DEEP, api=True),
        ),
        (f"API list by SLA, {size}", "/api/incidents/?ordering=sla"),
        (
            f"API list by number row 50,000, {size}",
            deep_url("/api/incidents/", {"ordering": "number"}, DEEP, api=True),
        ),
        (
            f"API P1/SLA row 5,000, {size}",
            deep_url("/api/incidents/", {"severity": "P1", "ordering": "sla"}, 5_000, api=True),
        ),
    ]

    rows = []
    for label, url in cases:
        if url is None:
            print(f"skipped {label}: its URL does not resolve in this build")
            continue
        result = measure(client, url, args.requests)
        rows.append((label, result))

    print()
    print(
        f"{'case':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>7} {'SQL':>4} "
        f"{'KiB':>6}  url"
    )
    for label, r in rows:
        if "error" in r:
            print(f"{label:38} {r['error']:>40}  {r['url']}")
            continue
        flag = "" if r["p95"] < 100 else "  <-- over 100 ms"
        print(
            f"{label:38} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} {r['cpu']:7.1f} "
            f"{r['queries']:4d} {r['kb']:6.1f}  {r['url'][:70]}{flag}"
        )
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average at the end: {' '.join(load)}; nproc {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
