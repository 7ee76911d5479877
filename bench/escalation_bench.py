"""1,000 escalation timers due over one minute, sweepers stopped for 30 s in the middle.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/escalation_bench.py [--timers 1000] [--sweepers 2] [--interval 1]

It creates/migrates ``nexusops_bench_escalation`` on PostgreSQL, declares the incidents with
no active policy, then writes one ``escalation`` Timer per incident, due evenly over 60 s
from 10 s after the start. ``--sweepers`` separate processes each run ``timers_sweep()``
every ``--interval`` seconds (what beat + a worker do in production: beat enqueues
``timers_sweep_task`` every TIMERS_SWEEP_SECONDS). 20 s into the minute every sweeper is
killed; 30 s later new ones start. Vendors are switched off (no stand-ins), so a firing is
the database work: lock, fire, page rows, timeline event, responders.

Reports: how many fired (must be all, each once) and the lateness p50/p99, overall and
"after recovery": fired_at - max(due_at, restart time), i.e. how fast the backlog drains.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nexusops_bench_escalation"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
os.environ.setdefault("NEXUSOPS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DEBUG", "false")
for name in ("SLACK_API_URL", "PAGERDUTY_EVENTS_URL", "PAGERDUTY_API_URL", "NEXUSOPS_STANDINS"):
    os.environ[name] = ""


def setup_django() -> None:
    import django

    django.setup()
    from incidents.oncall import setup

    setup.register()  # until IncidentsConfig.ready() calls it


def sweeper(interval: float) -> None:
    setup_django()
    from nexusops.engine.timers import timers_sweep

    while True:
        timers_sweep()
        time.sleep(interval)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--sweepers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--sweeper", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sweeper:
        sweeper(args.interval)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from incidents_bench import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from incidents.models import (
        EscalationPolicy,
        EscalationTier,
        Incident,
        Profile,
        Rotation,
        RotationMember,
    )
    from incidents.services import incident_declare
    from nexusops.engine.models import Timer
    from tests.factories import UserFactory, severities

    Timer.objects.filter(kind="escalation", fired_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
    EscalationPolicy.objects.all().delete()
    severities()
    user = UserFactory(username="bench-oncall")
    Profile.objects.update_or_create(user=user, defaults={"slack_user_id": "U0BENCH"})
    rotation, _ = Rotation.objects.get_or_create(
        name="Bench", defaults={"start_date": dt.date(2020, 1, 3)}
    )
    RotationMember.objects.get_or_create(rotation=rotation, user=user, defaults={"position": 0})
    have = list(Incident.objects.filter(title="bench escalation").values_list("pk", flat=True))
    for _ in range(args.timers - len(have)):
        have.append(incident_declare(title="bench escalation", severity="P2", actor=None).pk)
    policy = EscalationPolicy.objects.create(name="Bench", rotation=rotation, active=True)
    EscalationTier.objects.create(
        policy=policy, order=1, name="On-call", target="on_call", delay=dt.timedelta(0)
    )
    start = timezone.now() + dt.timedelta(seconds=10)
    spread = 60.0 / args.timers
    timers = Timer.objects.bulk_create(
        Timer(
            incident_id=pk,
            kind="escalation",
            due_at=start + dt.timedelta(seconds=i * spread),
            data={"tier": 1, "policy": policy.pk, "reason": "time", "words": "bench"},
        )
        for i, pk in enumerate(have[: args.timers])
    )
    ids = [t.pk for t in timers]

    def launch() -> list[subprocess.Popen]:
        cmd = [sys.executable, __file__, "--sweeper", "--interval", str(args.interval)]
        return [subprocess.Popen(cmd) for _ in range(args.sweepers)]

    procs = launch()
    stop_at = start + dt.timedelta(seconds=20)
    time.sleep(max(0.0, (stop_at - timezone.now()).total_seconds()))
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    print(f"sweepers killed at {timezone.now():%H:%M:%S}; down for 30 s")
    time.sleep(30)
    restart = timezone.now()
    procs = launch()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        left = Timer.objects.filter(pk__in=ids, fired_at__isnull=True).count()
        if not left and timezone.now() > start + dt.timedelta(seconds=61):
            break
        time.sleep(0.5)
    for p in procs:
        p.kill()
        p.wait()
    rows = list(Timer.objects.filter(pk__in=ids).values_list("due_at", "fired_at"))
    fired = [(d, f) for d, f in rows if f]
    from incidents.models import TimelineEvent

    events = TimelineEvent.objects.filter(kind="escalated", data__timer__in=ids).count()
    late = [(f - d).total_seconds() for d, f in fired]
    after = [(f - max(d, restart)).total_seconds() for d, f in fired if f >= restart]
    print(f"timers {len(ids)}, fired {len(fired)}, escalated events {events}")
    print(f"lateness overall  p50 {pct(late, 50):.2f} s  p99 {pct(late, 99):.2f} s")
    print(
        f"after recovery ({len(after)} fired after restart)  p50 {pct(after, 50):.2f} s  "
        f"p99 {pct(after, 99):.2f} s  max {max(after):.2f} s"
    )


if __name__ == "__main__":
    main()
