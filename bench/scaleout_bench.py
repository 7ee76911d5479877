"""Scale-out on one machine: 1 web + 1 worker against 2 web + 3 workers, and two beats at once.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/scaleout_bench.py [--seconds 20] [--messages 120] [--timers 150]

For each shape it recreates ``nexusops_bench_scaleout`` (PostgreSQL) and flushes Redis db 7,
migrates, seeds the alert rules, 50 services and a generic alert source, then starts the webs
(each one web process,
``nexusops.serve --workers 1 --threads 8``: one small pod) and the workers (each
``celery worker --concurrency 1`` on all three queues: one small pod), all on this machine,
with the Slack stand-in in its own process adding 50 ms to every call (as comms_bench does).

1. **Alert intake**: a second process's asyncio client keeps 16 connections busy for
   ``--seconds``, spread over the webs as a Service would, posting single generic alerts
   (unique ids, 50 fingerprints). Reported: alerts accepted per second (202), and the rate
   at which the workers processed them (events / time until none is pending).
2. **Outbox drain**: with the workers stopped, ``--messages`` incidents are declared (only
   Slack on: one ``slack.channel_setup`` message each, five Slack calls), their broker
   messages dropped; the workers start, every message is dispatched at once (what the relay
   does) and the drain rate is messages / time until all are ``sent``.
3. (2 web + 3 workers only) **Two beats**: a second ``celery beat`` beside the first, as a
   mistake or a standby would be; ``--timers`` escalation timers fall due over 20 s. Both
   beats' logs must show timers-sweep being sent; every timer must fire exactly once (one
   ``escalated`` timeline event each).

Prints one JSON document; the figures and the machine are in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _procs  # noqa: E402 - after the repository is on the path
from bench._procs import PY, ROOT, answers, machine, stop, wait_until  # noqa: E402

VAR = ROOT / "var" / "bench-scaleout"
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nexusops_bench_scaleout"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
HOST, WEB_PORTS, SLACK_PORT = "127.0.0.1", (8781, 8782), 8789
TOKEN = "nxa_benchscale_generic-scaleout-token"
FINGERPRINTS = 50
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("PAGERDUTY_", "STATUSPAGE_"))},
    "DATABASE_URL": DB_URL,
    "CELERY_BROKER_URL": REDIS_URL,
    "DJANGO_SETTINGS_MODULE": "nexusops.settings",
    "NEXUSOPS_VAR_DIR": str(VAR),
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
    "SLACK_API_URL": f"http://{HOST}:{SLACK_PORT}/api/",
    "SLACK_BOT_TOKEN": "xoxb-bench-token",
    "SLACK_ANNOUNCE_CHANNEL": "",
    "NEXUSOPS_STANDINS": "",
    "NEXUSOPS_MODE": "embedded",
}
os.environ.update(ENV)

SEED = f"""
import django; django.setup()
from alerts import seed
from alerts.services import alert_source_create
from incidents import seed as incidents_seed
from incidents.models import Service
incidents_seed.seed_catalog(lambda line: None)
seed.seed_rules(lambda line: None)
for n in range({FINGERPRINTS}):
    Service.objects.get_or_create(slug=f"svc-{{n:02d}}", defaults={{"name": f"Service {{n}}"}})
alert_source_create(name="bench generic", kind="generic", actor=None, token={TOKEN!r})
"""


def start(args: list[str], log: str, **env: str) -> subprocess.Popen:
    return _procs.start(args, VAR / log, {**ENV, **env})


def reset_database() -> None:
    _procs.reset_database(DB_URL, REDIS_URL, ENV, SEED)


def start_webs(n: int) -> list[subprocess.Popen]:
    webs = [
        start(
            [
                PY, "-m", "nexusops.serve", f"--bind={HOST}:{port}",
                "--workers=1", "--threads=8",
            ],
            f"web-{port}.log",
        )
        for port in WEB_PORTS[:n]
    ]  # fmt: skip
    for port in WEB_PORTS[:n]:
        wait_until(lambda p=port: answers(f"http://{HOST}:{p}/healthz"), 60, f"web :{port}")
    return webs


def start_workers(n: int, tag: str) -> list[subprocess.Popen]:
    workers = [
        start(
            [
                PY, "-m", "celery", "-A", "nexusops", "worker",
                "-Q", "default,notifications,remediation", "--concurrency=1",
                "--without-mingle", "--without-gossip", f"--hostname={tag}-{i}@%h", "-l", "INFO",
            ],
            f"worker-{tag}-{i}.log",
        )
        for i in range(n)
    ]  # fmt: skip
    for i in range(n):
        log = VAR / f"worker-{tag}-{i}.log"
        wait_until(lambda log=log: b" ready." in log.read_bytes(), 90, f"worker {tag}-{i}")
    return workers


# --- 1. alert intake ------------------------------------------------------------------------
async def _poster(index: int, ports: tuple[int, ...], until: float, statuses: dict) -> None:
    port = ports[index % len(ports)]
    reader, writer = await asyncio.open_connection(HOST, port)
    n = 0
    while time.monotonic() < until:
        n += 1
        fp = (index * 7919 + n) % FINGERPRINTS
        body = json.dumps(
            {
                "dedup_key": f"scale-{fp:02d}",
                "id": f"scale-{index}-{n}",
                "title": "error rate",
                "service": f"svc-{fp:02d}",
                "metric": "error_rate_percent",
                "value": 30,
            }
        ).encode()
        writer.write(
            (
                f"POST /api/alerts/generic/ HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def post_alerts(ports: tuple[int, ...], seconds: float, conns: int = 16) -> dict:
    """Runs in a child process (``--load``) so the client does not share this one's CPU."""
    out = subprocess.run(
        [PY, __file__, "--load", ",".join(map(str, ports)), "--seconds", str(seconds),
         "--conns", str(conns)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def load_main(ports: tuple[int, ...], seconds: float, conns: int) -> None:
    statuses: dict = {}

    async def run() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*[_poster(i, ports, until, statuses) for i in range(conns)])

    t0 = time.monotonic()
    asyncio.run(run())
    print(json.dumps({"statuses": statuses, "seconds": time.monotonic() - t0}))


def pending_alert_events() -> int:
    from alerts.models import AlertEvent

    return AlertEvent.objects.filter(processed_at__isnull=True).count()


# --- 2. outbox drain ------------------------------------------------------------------------
def declare_incidents(n: int) -> list[int]:
    from incidents.services import incident_declare
    from nexusops.engine.models import OutboxMessage

    ids = []
    for i in range(n):
        incident = incident_declare(
            title=f"Scale-out incident {i}", severity="P2", services=[f"svc-{i % 50:02d}"],
            summary="Bench", actor=None,
        )  # fmt: skip
        ids.append(OutboxMessage.objects.get(key=f"{incident.number}:slack-channel").pk)
    return ids


def drain(ids: list[int], workers: int) -> dict:
    import redis
    from django.db.models import Count

    from nexusops.engine.models import OutboxMessage
    from nexusops.engine.outbox import dispatch

    redis.Redis.from_url(REDIS_URL).flushdb()  # the declarations' own dispatches: dropped
    procs = start_workers(workers, "drain")
    try:
        t0 = time.monotonic()
        for pk in ids:
            dispatch(pk, "notifications")
        left = OutboxMessage.objects.filter(pk__in=ids).exclude(state__in=["sent", "dead"])
        wait_until(lambda: not left.exists(), 600, "the outbox to drain", 0.2)
        elapsed = time.monotonic() - t0
    finally:
        stop(procs)
    states = dict(
        OutboxMessage.objects.filter(pk__in=ids).values_list("state").annotate(n=Count("id"))
    )
    return {"messages": len(ids), "seconds": elapsed, "per_s": len(ids) / elapsed, "states": states}


# --- 3. two beats ---------------------------------------------------------------------------
def two_beats(n: int) -> dict:
    import datetime as dt

    from django.utils import timezone

    from incidents.models import Incident, Profile, TimelineEvent
    from nexusops.engine.models import Timer
    from oncall.models import EscalationPolicy, EscalationTier, Rotation, RotationMember
    from tests.factories import UserFactory

    EscalationPolicy.objects.all().delete()
    user = UserFactory(username="bench-oncall")
    Profile.objects.update_or_create(user=user, defaults={"slack_user_id": "U0BENCH"})
    rotation = Rotation.objects.create(name="Bench", start_date=dt.date(2020, 1, 3))
    RotationMember.objects.create(rotation=rotation, user=user, position=0)
    policy = EscalationPolicy.objects.create(name="Bench", rotation=rotation, active=True)
    EscalationTier.objects.create(
        policy=policy, order=1, name="On-call", target="on_call", delay=dt.timedelta(0)
    )
    incidents = list(Incident.objects.order_by("pk").values_list("pk", flat=True)[:n])
    beats = [
        start([PY, "-m", "celery", "-A", "nexusops", "beat", "-l", "INFO",
               f"--pidfile={VAR}/beat-{i}.pid"], f"beat-{i}.log", LOG_LEVEL="INFO")
        for i in range(2)
    ]  # fmt: skip
    workers = start_workers(3, "beats")
    try:
        start_at = timezone.now() + dt.timedelta(seconds=5)
        timers = Timer.objects.bulk_create(
            Timer(
                incident_id=pk, kind="escalation",
                due_at=start_at + dt.timedelta(seconds=20 * i / len(incidents)),
                data={"tier": 1, "policy": policy.pk, "reason": "time", "words": "bench"},
            )
            for i, pk in enumerate(incidents)
        )  # fmt: skip
        ids = [t.pk for t in timers]
        unfired = Timer.objects.filter(pk__in=ids, fired_at__isnull=True)
        wait_until(lambda: not unfired.exists(), 180, "every timer to fire", 0.5)
        time.sleep(10)  # both beats keep sweeping: a second firing would show now
    finally:
        stop(beats + workers)
    sent = {
        i: (VAR / f"beat-{i}.log").read_text().count("Sending due task timers-sweep")
        for i in range(2)
    }
    events = TimelineEvent.objects.filter(kind="escalated", data__timer__in=ids)
    per_timer = {}
    for timer_id in events.values_list("data__timer", flat=True):
        per_timer[timer_id] = per_timer.get(timer_id, 0) + 1
    late = [
        (f - d).total_seconds()
        for d, f in Timer.objects.filter(pk__in=ids).values_list("due_at", "fired_at")
    ]
    return {
        "timers": len(ids),
        "fired": Timer.objects.filter(pk__in=ids, fired_at__isnull=False).count(),
        "escalated_events": events.count(),
        "timers_with_more_than_one_event": sum(1 for c in per_timer.values() if c > 1),
        "sweeps_sent_by_beat": sent,
        "lateness_max_s": max(late),
    }


# --- driver -----------------------------------------------------------------------------------
def shape(webs: int, workers: int, args) -> dict:
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.db import connection

    connection.close()  # the database is dropped and made again
    reset_database()
    result: dict = {"webs": webs, "workers": workers, "load_before": os.getloadavg()}
    web_procs = start_webs(webs)
    worker_procs = start_workers(workers, "intake")
    try:
        post_alerts(WEB_PORTS[:webs], 3)  # warm-up: every thread's first request
        wait_until(lambda: pending_alert_events() == 0, 300, "warm-up alerts processed")
        t0 = time.monotonic()
        sent = post_alerts(WEB_PORTS[:webs], args.seconds)
        accepted = sent["statuses"].get("202", 0)
        wait_until(lambda: pending_alert_events() == 0, 600, "alerts processed", 0.5)
        processed_in = time.monotonic() - t0
        result["intake"] = {
            "statuses": sent["statuses"],
            "accepted_per_s": accepted / sent["seconds"],
            "processed_per_s": accepted / processed_in,
            "processed_in_s": processed_in,
        }
    finally:
        stop(worker_procs)
    try:
        ids = declare_incidents(args.messages)
        result["outbox"] = drain(ids, workers)
        if workers > 1:
            result["two_beats"] = two_beats(min(args.timers, len(ids)))
    finally:
        stop(web_procs)
    result["load_after"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--timers", type=int, default=150)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--conns", type=int, default=16, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(tuple(int(p) for p in args.load.split(",")), args.seconds, args.conns)
        return
    VAR.mkdir(parents=True, exist_ok=True)
    slack = start(
        [PY, "-m", "nexusops.standins.slack", "--port", str(SLACK_PORT), "--no-rate-limits"],
        "slack.log",
    )
    try:
        from nexusops.standins.control import StandinControl

        control = StandinControl(f"http://{HOST}:{SLACK_PORT}")
        wait_until(lambda: answers(f"http://{HOST}:{SLACK_PORT}/_standin/state"), 20, "Slack")
        control.inject(latency_ms=50, times=10**9)
        results = {"machine": machine()}
        results["small"] = shape(1, 1, args)
        print(json.dumps(results, default=str), file=sys.stderr, flush=True)  # progress
        results["large"] = shape(2, 3, args)
    finally:
        stop([slack])
    small, large = results["small"], results["large"]
    results["ratio"] = {
        "intake_accepted": large["intake"]["accepted_per_s"] / small["intake"]["accepted_per_s"],
        "intake_processed": large["intake"]["processed_per_s"] / small["intake"]["processed_per_s"],
        "outbox_drain": large["outbox"]["per_s"] / small["outbox"]["per_s"],
    }
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
