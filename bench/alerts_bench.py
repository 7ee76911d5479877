"""Alert ingest under load: the web server + PostgreSQL + Redis + a Celery worker on this machine,
load from a second process (wrk for throughput and latency; a small asyncio client for the
storm, which must send an exact number of alerts at a set pace).

Run by hand (not collected by pytest; needs ``wrk``: ``apt-get install -y wrk``)::

    .venv/bin/python bench/alerts_bench.py                 # everything, ~4 minutes
    .venv/bin/python bench/alerts_bench.py --duration 20   # longer wrk runs
    .venv/bin/python bench/alerts_bench.py --processing    # the worker: 2,500 and 5,000/s, 60 s
    .venv/bin/python bench/alerts_bench.py --workers 2 --threads 8   # another server shape

``BENCH_DATABASE_URL`` and ``BENCH_REDIS_URL`` choose the database (dropped and recreated) and
the Redis db (flushed); on a shared machine give each person their own.

Server CPU is read from /proc (utime + stime) for the web server's processes (granian's, started
by ``nexusops.serve`` as in production), the worker's and the
PostgreSQL backends of the bench database, from the start of each wrk run until its alerts are
processed, and divided by the alerts accepted: an alert's whole cost, its processing included.
The goal's ratio is the bare request's CPU over that (issue 15).

It recreates the database ``nexusops_alerts_bench`` and flushes Redis db 5, migrates, seeds
the runbook 6.2 rules, 50 services and three integrations, starts the web server (bench settings:
the site plus a bare JSON endpoint, ``bench/alerts_bench_site.py``) and one worker, then:

1. bare endpoint vs single-alert ingest at full speed (same server, same wrk settings);
2. single-alert ingest paced near 400 alerts/s (p99), and the bare endpoint at the same pace;
3. Alertmanager posts of 50 alerts at full speed;
4. the storm: 20,000 single alerts over 20 s across 50 fingerprints; then it waits for the
   queue to drain and checks groups == 50, rows == alerts sent, no 5xx.

Goals (issue 8): ingest >= 800 alerts/s and >= 0.4 of the bare endpoint; p99 < 100 ms at
400 alerts/s; batched >= 5,000 alerts/s; storm: 50 groups, no loss, no 5xx, drained < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _procs  # noqa: E402 - after the repository is on the path
from bench._procs import PY, ROOT, Cpu, answers, stop, wait_until  # noqa: E402
from nexusops import serve  # noqa: E402

VAR = ROOT / "var" / "alerts-bench"
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nexusops_alerts_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"
TOKENS = {
    "alertmanager": "nxa_benchamxx_alertmanager-bench-token",
    "generic": "nxa_benchgenx_generic-bench-token",
}
STORM_ALERTS, STORM_SECONDS, STORM_FINGERPRINTS = 20_000, 20.0, 50
# The shape of the web server: --workers and --threads choose another (see main()).
WORKERS, THREADS = serve.WORKERS, serve.THREADS
ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "CELERY_BROKER_URL": REDIS_URL,
    "DJANGO_SETTINGS_MODULE": "bench.alerts_bench_site",
    "NEXUSOPS_VAR_DIR": str(ROOT / "var" / "alerts-bench"),
    "DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
}

SEED = f"""
import django; django.setup()
from alerts import seed
from alerts.services import alert_source_create
from incidents import seed as incidents_seed
from incidents.models import Service
incidents_seed.seed_catalog(lambda line: None)
seed.seed_rules(lambda line: None)
for n in range({STORM_FINGERPRINTS}):
    Service.objects.get_or_create(slug=f"svc-{{n:02d}}", defaults={{"name": f"Service {{n}}"}})
for kind, token in {TOKENS!r}.items():
    alert_source_create(name=f"bench {{kind}}", kind=kind, actor=None, token=token)
"""

COUNTS = """
import django, json; django.setup()
from alerts.models import AlertEvent, AlertGroup, Alert
from incidents.models import Incident, TimelineEvent
print(json.dumps({"events": AlertEvent.objects.count(),
  "pending": AlertEvent.objects.filter(processed_at__isnull=True).count(),
  "groups": AlertGroup.objects.count(), "alerts": Alert.objects.count(),
  "incidents": Incident.objects.count(), "timeline": TimelineEvent.objects.count()}))
"""


def django(code: str) -> str:
    return _procs.sh([PY, "-c", code], ENV)


def counts() -> dict:
    return json.loads(django(COUNTS).strip().splitlines()[-1])


def queue_length() -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    return sum(client.llen(q) for q in ("default", "notifications")) + client.hlen("unacked")


def pending(cpu: Cpu) -> int:
    """Unprocessed events, over the CPU reader's connection (no new backend per poll)."""
    sql = "SELECT count(*) FROM alerts_alertevent WHERE processed_at IS NULL"
    return cpu.conn.execute(sql).fetchone()[0]


def start(args: list[str], log: str) -> subprocess.Popen:
    return _procs.start(args, VAR / log, ENV)


def wrk(path: str, mode: str, *, duration: int, conns: int, delay_ms: int | None = None) -> dict:
    env = {
        **ENV,
        "MODE": mode,
        "RUN": f"{mode}{time.time_ns()}",
        "TOKEN": TOKENS["alertmanager" if mode == "am50" else "generic"] if mode != "bare" else "",
    }
    if delay_ms is not None:
        env["DELAY_MS"] = str(delay_ms)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "alerts_wrk.lua"),
            BASE + path,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    try:
        return parse_wrk(out)
    except (KeyError, AttributeError):
        raise SystemExit(f"could not read wrk's output:\n{out}") from None


def warm_up(conns: int, limit: float = 120) -> None:
    """Until every web worker answers (they boot slowly on a loaded machine)."""
    t0 = time.time()
    while time.time() - t0 < limit:
        bare = wrk("/api/bench/bare/", "bare", duration=2, conns=conns)
        single = wrk("/api/alerts/generic/", "single", duration=2, conns=conns)
        if bare["requests"] > 100 and single["requests"] > 100 and single["p99"] < 1000:
            return
    raise SystemExit("the server never warmed up")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict:
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    if not total:
        lat = {"50": "0us", "99": "0us"}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(lat["50"]),
        "p99": _ms(lat["99"]),
        "requests": total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }


# --- the storm: exact count at a set pace, from a minimal asyncio HTTP/1.1 client ----------
async def _storm_conn(index: int, conns: int, statuses: dict, t0: float) -> None:
    reader, writer = await asyncio.open_connection(HOST, PORT)
    interval = STORM_SECONDS / STORM_ALERTS
    for n in range(index, STORM_ALERTS, conns):
        due = t0 + n * interval
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        fp = n % STORM_FINGERPRINTS
        body = json.dumps(
            {
                "dedup_key": f"storm-{fp:02d}",
                "id": f"storm-{n}",
                "title": "error storm",
                "service": f"svc-{fp:02d}",
                "metric": "error_rate_percent",
                "value": 30,
            }
        ).encode()
        head = (
            f"POST /api/alerts/generic/ HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Authorization: Bearer {TOKENS['generic']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


async def _storm(conns: int) -> dict:
    statuses: dict = {}
    t0 = time.perf_counter() + 0.2
    await asyncio.gather(*[_storm_conn(i, conns, statuses, t0) for i in range(conns)])
    return {"statuses": statuses, "seconds": time.perf_counter() - t0}


def storm(cpu: Cpu) -> dict:
    django(
        "import django; django.setup()\nfrom django.db import connection\n"
        "connection.cursor().execute('TRUNCATE alerts_alertevent, alerts_alert, "
        "alerts_alertgroup, alerts_slackchannelstate')"
    )
    start_at = time.time()
    sent = asyncio.run(_storm(conns=32))
    deadline = start_at + 120
    drained_after = None
    while time.time() < deadline:
        if pending(cpu) == 0 and queue_length() == 0:
            drained_after = time.time() - start_at
            break
        time.sleep(0.5)
    return {**sent, "drained_after_start_s": drained_after, **counts()}


def drain(cpu: Cpu, limit: float = 300) -> float:
    """Seconds until no event is unprocessed and the queues are empty (polled over one
    connection, so the polling makes no new backends)."""
    t0 = time.time()
    while time.time() - t0 < limit:
        if pending(cpu) == 0 and queue_length() == 0:
            break
        time.sleep(0.25)
    return time.time() - t0


def measured(cpu: Cpu, path: str, mode: str, per_request: int = 1, **kw) -> dict:
    """One wrk run, then its processing drained; CPU from /proc over both, per alert accepted
    (the worker's processing of them included)."""
    before = cpu.sample()
    out = wrk(path, mode, **kw)
    out["drain_s"] = round(drain(cpu), 1)
    ms = Cpu.delta(before, cpu.sample())
    accepted = (out["requests"] - out["non2xx"]) * per_request
    out["accepted"] = accepted
    out["cpu_ms"] = {k: round(v) for k, v in ms.items()}
    out["cpu_ms_per_alert"] = round(ms["total"] / max(1, accepted), 3)
    out["cpu_ms_per_alert_by_part"] = {
        k: round(v / max(1, accepted), 3) for k, v in ms.items() if k != "total"
    }
    return out


def processing(cpu: Cpu, rate: int, seconds: int) -> dict:
    """Feed ``rate`` alerts/s for ``seconds``; the backlog (unprocessed events) every second."""
    feeder = subprocess.Popen(
        [PY, str(ROOT / "bench" / "alerts_feed.py"), str(rate), str(seconds)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    before, t0 = cpu.sample(), time.time()
    backlog = []
    while feeder.poll() is None:
        time.sleep(1.0)
        backlog.append(pending(cpu))
    fed = int(feeder.stdout.read().strip() or 0)
    fed_s = time.time() - t0
    drain_s = drain(cpu)
    ms = Cpu.delta(before, cpu.sample())
    half = len(backlog) // 2
    return {
        "rate": rate,
        "fed": fed,
        "fed_seconds": round(fed_s, 1),
        "backlog_every_s": backlog,
        "backlog_max": max(backlog or [0]),
        "backlog_mean_first_half": round(sum(backlog[:half]) / max(1, half)),
        "backlog_mean_second_half": round(sum(backlog[half:]) / max(1, len(backlog) - half)),
        "drain_after_feed_s": round(drain_s, 1),
        "processed_per_s_overall": round(fed / (fed_s + drain_s)),
        "worker_cpu_ms_per_alert": round(ms["worker"] / max(1, fed), 3),
        "postgres_cpu_ms_per_alert": round(ms["postgres"] / max(1, fed), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument(
        "--only-single", action="store_true", help="bare and single-alert runs only, no storm"
    )
    parser.add_argument(
        "--processing",
        action="store_true",
        help="only the worker's throughput: a feed at 2,500 then 5,000 alerts/s for 60 s each",
    )
    parser.add_argument("--rates", default="2500,5000")
    parser.add_argument("--workers", type=int, default=WORKERS, help="web server processes")
    parser.add_argument("--threads", type=int, default=THREADS, help="WSGI threads each")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    shape = ["--workers", str(args.workers), "--threads", str(args.threads)]
    VAR.mkdir(parents=True, exist_ok=True)
    _procs.reset_database(DB_URL, REDIS_URL, ENV, SEED)
    # The production launcher (granian), as the image runs it.
    web = start([PY, "-m", "nexusops.serve", "--bind", f"{HOST}:{PORT}", *shape], "web.log")
    worker = start(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "nexusops",
            "worker",
            "-Q",
            "default,notifications",
            "-c",
            "1",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        "worker.log",
    )
    results: dict = {
        "machine": _procs.machine(),
        "server": "python -m nexusops.serve " + " ".join(shape),
        "load_before": open("/proc/loadavg").read().split()[:3],
    }
    try:
        wait_until(lambda: answers(BASE + "/healthz"), 180, "the web server", 0.2)
        warm_up(args.conns)
        cpu = Cpu(DB_URL, {"web": web, "worker": worker})
        drain(cpu)
        if args.processing:
            for rate in (int(r) for r in args.rates.split(",")):
                results[f"processing_{rate}"] = processing(cpu, rate, args.seconds)
            return
        d, c = args.duration, args.conns
        generic = "/api/alerts/generic/"
        results["bare"] = measured(cpu, "/api/bench/bare/", "bare", duration=d, conns=c)
        results["single"] = measured(cpu, generic, "single", duration=d, conns=c)
        results["ratio_rps"] = round(results["single"]["rps"] / results["bare"]["rps"], 3)
        # The goal's ratio: CPU of one bare request over CPU of one alert, same server and run.
        results["ratio_cpu"] = round(
            results["bare"]["cpu_ms_per_alert"] / results["single"]["cpu_ms_per_alert"], 3
        )
        if args.only_single:
            return
        # The same pace on the bare endpoint: what a request costs the server when requests
        # arrive one at a time (each wakes it) rather than back to back.
        results["paced_bare"] = measured(
            cpu, "/api/bench/bare/", "bare", duration=d, conns=26, delay_ms=50
        )
        results["paced"] = measured(cpu, generic, "single", duration=d, conns=26, delay_ms=50)
        results["ratio_cpu_paced"] = round(
            results["paced_bare"]["cpu_ms_per_alert"] / results["paced"]["cpu_ms_per_alert"], 3
        )
        results["paced_half"] = measured(cpu, generic, "single", duration=d, conns=13, delay_ms=50)
        results["am50"] = measured(
            cpu, "/api/alerts/alertmanager/", "am50", per_request=50, duration=d, conns=8
        )
        results["am50"]["alerts_per_s"] = results["am50"]["rps"] * 50
        if not args.skip_storm:
            results["storm"] = storm(cpu)
    finally:
        stop([web, worker], timeout=20)
        results["load_after"] = open("/proc/loadavg").read().split()[:3]
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
