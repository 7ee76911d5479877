"""Escalation timers under load: the cost of one firing, an outage backlog, a steady stream.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/escalation_bench.py cost   [--timers 500] [--profile 40]
    .venv/bin/python bench/escalation_bench.py outage [--timers 1000] [--sweepers 2]  # default
    .venv/bin/python bench/escalation_bench.py steady [--timers 5000] [--sweepers 2]
    (all: --vendors slack|off, --interval 1)

It creates/migrates ``nexusops_bench_escalation`` on PostgreSQL (or ``DATABASE_URL``) and
makes ``--timers`` open P2 incidents (one declared through ``incident_declare``, the rest
bulk copies of it: a firing reads only the incident row). One policy with one tier, the
on-call engineer; the one rotation member is reachable in Slack only.

``--vendors slack`` (the default): Slack is configured in the sweepers (a URL nothing
listens on: no worker runs, so nothing is delivered), so a firing is what production does:
lock, fire, the Slack invitation and its channel mirror in the outbox, the timeline entry,
the responder, and the invitation's dispatch to the broker after commit (Redis,
``CELERY_BROKER_URL``, default db 5; the bench's queues are purged before and after, so
never point it at a broker db a test suite or worker is using).
Earlier runs' messages are marked sent first, as if the channel were set up long ago.
``--vendors off``: nothing can be reached, so a firing writes "could not page" (what runs
before 2026-11-28 measured).

- ``cost``: ``--timers`` due at once, fired by ``timers_sweep()`` in this process until none
  is left. Reports statements per firing (every statement Django sends; BEGIN and COMMIT,
  one each per transaction, come on top), CPU per firing of this process and of its
  PostgreSQL backend (``/proc/<pid>/stat``), and firings per second.
- ``outage``: timers due evenly over one minute from 10 s after the start; ``--sweepers``
  processes each run ``timers_sweep()`` every ``--interval`` s (what beat + workers do);
  20 s into the minute every sweeper is killed, 30 s later new ones start. Reports the
  lateness ``fired_at - due_at`` and, "after recovery", ``fired_at - max(due_at, restart)``
  where restart is when the new processes were launched (their start-up included), and
  the same from the moment the first of them was ready to sweep (the drain alone).
- ``steady``: the same minute without the outage: p50/p99 lateness of every firing.

Every scenario checks that every timer fired and each one once (one timeline entry each).
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
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
os.environ.setdefault("NEXUSOPS_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DEBUG", "false")
for name in ("SLACK_API_URL", "PAGERDUTY_EVENTS_URL", "PAGERDUTY_API_URL", "NEXUSOPS_STANDINS"):
    os.environ[name] = ""
SLACK_ON = {"SLACK_API_URL": "http://127.0.0.1:9/api/", "SLACK_BOT_TOKEN": "xoxb-bench"}
TITLE = "bench escalation"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def setup_django() -> None:
    import django

    django.setup()


def sweeper(interval: float) -> None:
    setup_django()
    from nexusops.engine import timers

    print(f"sweeper ready {time.time():.3f}", flush=True)
    # What the beat task does: a run that fired its limit (a backlog) sweeps again at once.
    backlog = getattr(timers, "timers_sweep_backlog", timers.timers_sweep)
    while True:
        backlog()
        time.sleep(interval)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process on this machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def purge_broker() -> None:
    from nexusops.celery import app

    with app.connection_for_write() as conn:
        for queue in ("notifications", "default", "remediation"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that was never declared
                pass


def prepare(timers: int, due_from: dt.datetime, spread: float) -> list[int]:
    """``timers`` open incidents with one due escalation tier each; returns the timer ids."""
    from django.db import transaction

    from incidents.models import Incident, Profile
    from incidents.services import incident_declare
    from nexusops.engine.models import OutboxMessage, Timer
    from oncall.models import EscalationPolicy, EscalationTier, Rotation, RotationMember
    from tests.factories import UserFactory, severities

    severities()
    Timer.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=due_from
    )
    OutboxMessage.objects.exclude(state=OutboxMessage.State.SENT).update(
        state=OutboxMessage.State.SENT, sent_at=due_from
    )
    EscalationPolicy.objects.all().delete()
    user = UserFactory(username="bench-oncall")
    Profile.objects.update_or_create(user=user, defaults={"slack_user_id": "U0BENCH"})
    rotation, _ = Rotation.objects.get_or_create(
        name="Bench", defaults={"start_date": dt.date(2020, 1, 3)}
    )
    RotationMember.objects.get_or_create(rotation=rotation, user=user, defaults={"position": 0})
    have = list(Incident.objects.filter(title=TITLE).order_by("pk").values_list("pk", flat=True))
    if not have:
        have.append(incident_declare(title=TITLE, severity="P2", actor=None).pk)
    if len(have) < timers:
        proto = Incident.objects.get(pk=have[0])
        day = dt.date(2000, 1, 1)
        top = Incident.objects.filter(day=day).order_by("-seq").values_list("seq", flat=True)
        start = (top.first() or 0) + 1
        copies = []
        for seq in range(start, start + timers - len(have)):
            copy = Incident(
                **{
                    f.attname: getattr(proto, f.attname)
                    for f in Incident._meta.concrete_fields
                    if not f.primary_key
                }
            )
            copy.day, copy.seq, copy.number = day, seq, f"INC-BENCH-{seq:06d}"
            copies.append(copy)
        with transaction.atomic():
            made = Incident.objects.bulk_create(copies, batch_size=1000)
        have += [i.pk for i in made]
    policy = EscalationPolicy.objects.create(name="Bench", rotation=rotation, active=True)
    EscalationTier.objects.create(
        policy=policy, order=1, name="On-call", target="on_call", delay=dt.timedelta(0)
    )
    step = spread / timers
    made = Timer.objects.bulk_create(
        Timer(
            incident_id=pk,
            kind="escalation",
            due_at=due_from + dt.timedelta(seconds=i * step),
            data={"tier": 1, "policy": policy.pk, "reason": "time", "words": "bench"},
        )
        for i, pk in enumerate(have[:timers])
    )
    return [t.pk for t in made]


def check_once(ids: list[int]) -> tuple[int, int]:
    """How many of the timers fired, and how many timeline entries name them."""
    from incidents.models import TimelineEvent
    from nexusops.engine.models import Timer

    fired = Timer.objects.filter(pk__in=ids, fired_at__isnull=False).count()
    entries = TimelineEvent.objects.filter(
        kind__in=("escalated", "page_failed"), data__timer__in=ids
    ).count()
    return fired, entries


def cost(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from nexusops.engine.timers import timers_sweep

    ids = prepare(args.timers, timezone.now() - dt.timedelta(seconds=1), 0.0)
    if args.vendors == "slack":
        for name, value in SLACK_ON.items():
            setattr(settings, name, value)
    statements = 0

    def count(execute, sql, params, many, context):  # noqa: ANN001 - Django's wrapper API
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    profiler = None
    if args.profile:
        import cProfile

        # CPU time, not wall time: waiting for PostgreSQL or Redis is not the sweeper's cost.
        profiler = cProfile.Profile(time.process_time)
    cpu0, db0, wall0 = time.process_time(), proc_cpu(backend), time.perf_counter()
    fired = 0
    with connection.execute_wrapper(count):
        if profiler is not None:
            profiler.enable()
        while True:
            got = timers_sweep()
            if not got:
                break
            fired += got
        if profiler is not None:
            profiler.disable()
    cpu, db, wall = (
        time.process_time() - cpu0,
        proc_cpu(backend) - db0,
        time.perf_counter() - wall0,
    )
    done, entries = check_once(ids)
    print(f"timers {len(ids)}, fired {done}, timeline entries {entries} (vendors {args.vendors})")
    print(
        f"per firing: {statements / fired:.2f} statements, sweeper CPU {cpu / fired * 1000:.2f} ms,"
        f" PostgreSQL backend CPU {db / fired * 1000:.2f} ms; {fired / wall:.0f} firings/s"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    if profiler is not None:
        import pstats

        # Where a firing's CPU goes (the profiler's own cost inflates every figure).
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)


def timed(args: argparse.Namespace, *, outage: bool) -> None:
    from django.utils import timezone

    from nexusops.engine.models import Timer

    env = {**os.environ, **(SLACK_ON if args.vendors == "slack" else {})}

    def launch() -> list[subprocess.Popen]:
        cmd = [sys.executable, __file__, "sweep", "--interval", str(args.interval)]
        launched = time.time()
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(args.sweepers)
        ]
        # Start-up (Python, Django) is part of the recovery; say how much of it.
        ready = [float(p.stdout.readline().split()[-1]) for p in procs]
        print(f"{len(procs)} sweepers ready {max(ready) - launched:.2f} s after launch")
        readiness.append(dt.datetime.fromtimestamp(min(ready), dt.UTC))
        return procs

    readiness: list[dt.datetime] = []

    procs = launch()  # ready before the first timer is due: only the sweep is measured
    start = timezone.now() + dt.timedelta(seconds=10)
    ids = prepare(args.timers, start, 60.0)
    restart = None
    if outage:
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
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        left = Timer.objects.filter(pk__in=ids, fired_at__isnull=True).count()
        if not left and timezone.now() > start + dt.timedelta(seconds=61):
            break
        time.sleep(0.5)
    load = os.getloadavg()
    for p in procs:
        p.kill()
        p.wait()
    rows = list(Timer.objects.filter(pk__in=ids).values_list("due_at", "fired_at"))
    fired = [(d, f) for d, f in rows if f]
    done, entries = check_once(ids)
    late = [(f - d).total_seconds() for d, f in fired]
    print(
        f"timers {len(ids)}, fired {done}, timeline entries {entries} (vendors {args.vendors}, "
        f"{args.sweepers} sweepers), load at the end {load[0]:.1f}"
    )
    print(f"lateness overall  p50 {pct(late, 50):.2f} s  p99 {pct(late, 99):.2f} s")
    if restart is not None:
        after = [(f - max(d, restart)).total_seconds() for d, f in fired if f >= restart]
        print(
            f"after recovery ({len(after)} fired after restart)  p50 {pct(after, 50):.2f} s  "
            f"p99 {pct(after, 99):.2f} s  max {max(after):.2f} s"
        )
        # The same from the moment the first new sweeper could sweep: the drain alone.
        up = readiness[-1]
        drain = [(f - max(d, up)).total_seconds() for d, f in fired if f >= restart]
        print(
            f"after the first sweeper was ready  p50 {pct(drain, 50):.2f} s  "
            f"p99 {pct(drain, 99):.2f} s  max {max(drain):.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "scenario", nargs="?", default="outage", choices=("cost", "outage", "steady", "sweep")
    )
    parser.add_argument("--timers", type=int)
    parser.add_argument("--sweepers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--vendors", choices=("slack", "off"), default="slack")
    parser.add_argument(
        "--profile", type=int, default=0, help="cost: print the top N functions (cProfile)"
    )
    args = parser.parse_args()
    if args.scenario == "sweep":  # one sweeper process
        sweeper(args.interval)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from incidents_bench import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    purge_broker()
    try:
        if args.scenario == "cost":
            args.timers = args.timers or 500
            cost(args)
        else:
            args.timers = args.timers or {"outage": 1000, "steady": 5000}[args.scenario]
            timed(args, outage=args.scenario == "outage")
    finally:
        purge_broker()


if __name__ == "__main__":
    main()
