"""Declare-to-Slack-post latency through a real worker and Redis, the stand-in adding 50 ms.

Run by hand (not collected by pytest)::

    .venv/bin/python bench/comms_bench.py [--incidents 500] [--rate 20] [--pool threads]
                                          [--concurrency 16] [--latency-ms 50]

It creates/migrates ``nexusops_bench_comms`` on PostgreSQL, flushes Redis db 3 (the broker),
seeds the catalog (severities, services, checklist templates), starts the Slack stand-in in a
thread with ``--latency-ms`` added to every request, and one real Celery worker process
(``-Q notifications,default``). After a short warm-up, ``--declarers`` threads declare
``--incidents`` incidents at ``--rate`` per second, open loop (incident i is due at
start + i / rate), each with ``incident_declare(actor=None)`` in its own transaction. Only
Slack is on (PagerDuty, Statuspage and the announce channel unset), so each declaration is
one ``slack.channel_setup`` outbox message: conversations.create, then chat.postMessage of
the pinned summary, pins.add, setTopic, setPurpose.

Latency per incident = the stand-in's receive time of the summary's chat.postMessage minus the
moment the declaration committed (an ``on_commit`` callback registered before the outbox's
dispatch callback). Goal: p50 under 300 ms, p99 under 1.5 s. The worker-side breakdown comes
from ``OutboxMessage.claimed_at`` and the receive time of conversations.create.

Declarations of one day are serial (the day-number row lock), so the rate reached may be
lower than ``--rate``; ``--predeclare`` offers the full rate to the worker side instead.
Results and the machine they ran on: bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLACK_TOKEN = "xoxb-bench-token"
ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nexusops_bench_comms",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/3",
    "NEXUSOPS_VAR_DIR": str(ROOT / "var" / "bench-comms"),
    "DJANGO_SETTINGS_MODULE": "nexusops.settings",
    "DEBUG": "false",
}
OFF = (
    "PAGERDUTY_EVENTS_URL",
    "PAGERDUTY_API_URL",
    "PAGERDUTY_ROUTING_KEY",
    "PAGERDUTY_API_TOKEN",
    "STATUSPAGE_API_URL",
    "SLACK_ANNOUNCE_CHANNEL",
    "NEXUSOPS_STANDINS",
    "NEXUSOPS_MODE",
)
SERVICES = ("api-gateway", "user-service", "auth-service", "content-service")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<34} (none)"
    ms = [v * 1000 for v in values]
    return (
        f"{label:<34} p50 {pct(ms, 50):7.1f}  p90 {pct(ms, 90):7.1f}  p99 {pct(ms, 99):7.1f}  "
        f"max {max(ms):7.1f} ms  (n={len(ms)})"
    )


def configure_env(slack_base: str) -> None:
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    for name in OFF:
        os.environ.pop(name, None)
    os.environ["SLACK_API_URL"] = f"{slack_base}/api/"
    os.environ["SLACK_BOT_TOKEN"] = SLACK_TOKEN


def start_worker(pool: str, concurrency: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "nexusops",
        "worker",
        "-Q",
        "notifications,default",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
        "-n",
        f"bench-comms-{os.getpid()}@%h",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log)


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answers(control) -> bool:
    try:
        control.state()
    except OSError:
        return False
    return True


def declare(n: int, rng_services: tuple[str, ...]) -> tuple[str, float, float]:
    """Declare one incident; returns (number, commit time, time the call returned)."""
    from django.db import transaction

    from incidents.services import incident_declare

    stamp: dict[str, float] = {}
    with transaction.atomic():
        # Registered before incident_declare's outbox dispatch, so it runs first at commit.
        transaction.on_commit(lambda: stamp.setdefault("commit", time.time()))
        incident = incident_declare(
            title=f"Bench comms incident {n}",
            severity=("P1", "P2", "P3")[n % 3],
            services=[rng_services[n % len(rng_services)]],
            summary="Checkout latency above SLO for EU customers.",
            actor=None,
        )
    return incident.number, stamp["commit"], time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="declarations per second")
    parser.add_argument("--pool", default="threads")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--standin-process",
        action="store_true",
        help="run the Slack stand-in in a child process instead of a thread of this one",
    )
    parser.add_argument(
        "--declarers", type=int, default=4, help="threads declaring (concurrent requests)"
    )
    parser.add_argument("--wait", type=float, default=120.0, help="max seconds to drain")
    parser.add_argument(
        "--predeclare",
        action="store_true",
        help="declare every incident before the worker starts, drop their broker messages, "
        "then dispatch them at --rate (as the relay would): the worker side at the full rate, "
        "without the declaration's own limit; latency is measured from the dispatch",
    )
    args = parser.parse_args()

    from nexusops.standins import slack as slack_standin
    from nexusops.standins.common import run_in_thread
    from nexusops.standins.control import StandinControl

    # No 429s: the benchmark measures our pipeline, not Slack's per-minute tiers.
    server, base = slack_standin.make_server(rate_window=None)
    standin_proc = None
    if args.standin_process:  # its own process: no GIL shared with the declaring threads
        port = server.server_address[1]
        server.server_close()
        cmd = [
            sys.executable,
            "-m",
            "nexusops.standins.slack",
            "--port",
            str(port),
            "--no-rate-limits",
        ]
        standin_proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    else:
        run_in_thread(server)
    control = StandinControl(base)
    wait_until(lambda: _answers(control), 10, "the Slack stand-in")
    configure_env(base)

    sys.path.insert(0, str(ROOT / "bench"))
    from incidents_bench import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from incidents import seed
    from nexusops.engine.models import OutboxMessage
    from nexusops.engine.outbox import dispatch

    assert settings.SLACK_API_URL and not settings.PAGERDUTY_EVENTS_URL
    call_command("migrate", verbosity=0)
    seed.seed_catalog(lambda _msg: None)
    predeclared: dict[int, tuple[str, int]] = {}
    if args.predeclare:
        for i in range(args.incidents):
            number = declare(i, SERVICES)[0]
            predeclared[i] = (number, OutboxMessage.objects.get(key=f"{number}:slack-channel").pk)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    control.inject(latency_ms=args.latency_ms, times=10**9)

    var = Path(settings.VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    log_path = var / "worker.log"
    worker = start_worker(args.pool, args.concurrency, log_path)
    try:
        wait_until(lambda: b" ready." in log_path.read_bytes(), 60, "the worker to be ready")

        def all_sent(numbers: list[str]) -> bool:
            keys = [f"{n}:slack-channel" for n in numbers]
            left = OutboxMessage.objects.filter(key__in=keys).exclude(state__in=["sent", "dead"])
            return not left.exists()

        warm = [declare(-i - 1, SERVICES)[0] for i in range(args.warmup)]
        wait_until(lambda: all_sent(warm), 60, "the warm-up deliveries")

        print(
            f"{'dispatching predeclared' if args.predeclare else 'declaring'} "
            f"{args.incidents} incidents at {args.rate:g}/s; worker --pool "
            f"{args.pool} --concurrency {args.concurrency}; stand-in +{args.latency_ms} ms; "
            f"{args.declarers} declaring threads"
        )
        commits: dict[str, float] = {}
        returned: dict[str, float] = {}
        lateness: list[float] = []
        durations: list[float] = []
        cpu_worker, cpu_main = cpu_seconds(worker.pid), time.process_time()
        started = time.time() + 0.2
        slots = iter(range(args.incidents))
        lock = threading.Lock()

        def declarer() -> None:
            # Open loop: incident i is declared at started + i / rate by whichever declarer is
            # free (as concurrent web requests would), so one slow commit does not slow the rate.
            from django.db import connection

            try:
                while True:
                    with lock:
                        i = next(slots, None)
                    if i is None:
                        return
                    due = started + i / args.rate
                    if (delay := due - time.time()) > 0:
                        time.sleep(delay)
                    begun = time.time()
                    if args.predeclare:
                        number, pk = predeclared[i]
                        committed = time.time()
                        dispatch(pk, "notifications")
                        back = time.time()
                    else:
                        number, committed, back = declare(i, SERVICES)
                    with lock:
                        commits[number], returned[number] = committed, back
                        lateness.append(begun - due)
                        durations.append(committed - begun)
            finally:
                connection.close()

        threads = [threading.Thread(target=declarer) for _ in range(args.declarers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        declared_in = time.time() - started
        numbers = list(commits)
        wait_until(lambda: all_sent(numbers), args.wait, "every summary post", interval=0.5)
        drained_in = time.time() - started
        cpu_worker = cpu_seconds(worker.pid) - cpu_worker
        cpu_main = time.process_time() - cpu_main
        rows = {
            m.key.split(":")[0]: m
            for m in OutboxMessage.objects.filter(key__in=[f"{n}:slack-channel" for n in numbers])
        }
        received = control.received()
        names = {cid: c["name"] for cid, c in control.state()["channels"].items()}
    finally:
        stop_worker(worker)
        if standin_proc is not None:
            stop_worker(standin_proc)
        else:
            server.shutdown()
            server.server_close()

    print(summary("declaration start behind schedule", lateness))
    print(summary("declaration call -> commit", durations))
    n = max(1, len(commits))
    print(
        f"CPU per incident: worker {cpu_worker / n * 1000:.1f} ms, this process "
        f"(declaring{'' if args.standin_process else ' + stand-in thread'}) "
        f"{cpu_main / n * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    report(args, commits, returned, rows, received, names, declared_in, drained_in, log_path)


def report(args, commits, returned, rows, received, names, declared_in, drained_in, log_path):
    from nexusops.integrations.slack.messages import incident_channel_name

    by_name = {incident_channel_name(number): number for number in commits}
    posted: dict[str, float] = {}
    created: dict[str, float] = {}
    for entry in received:
        body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
        if entry["path"] == "/api/chat.postMessage":
            number = by_name.get(names.get(str(body.get("channel")), ""))
            if number and number not in posted:  # the first post in the channel: the summary
                posted[number] = entry["at"]
        elif entry["path"] == "/api/conversations.create":
            number = by_name.get(str(body.get("name")))
            if number and number not in created:
                created[number] = entry["at"]

    states: dict[str, int] = {}
    for row in rows.values():
        states[row.state] = states.get(row.state, 0) + 1
    retried = sum(1 for r in rows.values() if r.attempts > 1)
    print(
        f"declared {len(commits)} in {declared_in:.1f} s ({len(commits) / declared_in:.1f}/s); "
        f"all delivered {drained_in:.1f} s after the first; outbox states {states}, "
        f"{retried} needed more than one attempt"
    )
    latency = [posted[n] - commits[n] for n in commits if n in posted]
    print(summary("declare commit -> summary post", latency))
    print(f"missing summary posts: {len(commits) - len(posted)}")
    print("breakdown:")
    print(
        summary("  commit -> call returned (dispatch)", [returned[n] - commits[n] for n in commits])
    )
    claim = [rows[n].claimed_at.timestamp() - commits[n] for n in commits if rows[n].claimed_at]
    print(summary("  commit -> claimed by the worker", claim))
    print(
        summary(
            "  claimed -> conversations.create",
            [created[n] - rows[n].claimed_at.timestamp() for n in created if rows[n].claimed_at],
        )
    )
    print(summary("  conversations.create -> post", [posted[n] - created[n] for n in posted]))
    done = [rows[n].sent_at.timestamp() - commits[n] for n in commits if rows[n].sent_at]
    print(summary("  commit -> outbox row sent", done))
    cut = len(commits) // 2
    halves = list(commits)
    for label, part in (("first half", halves[:cut]), ("second half", halves[cut:])):
        print(
            summary(
                f"  {label}: commit -> post", [posted[n] - commits[n] for n in part if n in posted]
            )
        )
    print(f"worker log: {log_path}")


if __name__ == "__main__":
    main()
