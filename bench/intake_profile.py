"""In process: CPU per request of the bare endpoint and of a single-alert webhook, through the
WSGI application the web server serves (``nexusops.wsgi.application``), one request at a time or
from several threads at once (as gthread's), no HTTP server and no load generator.

Quick (seconds) and without a worker: it tells where a request's CPU goes, not what an alert
costs end to end (``alerts_bench.py`` does that, processing included)::

    .venv/bin/python bench/intake_profile.py                 # bare, webhook via Django, via
                                                             # the WSGI front; 2,000 each
    .venv/bin/python bench/intake_profile.py --threads 4     # 4 threads at once
    .venv/bin/python bench/intake_profile.py --profile webhook   # cProfile, top 30

Uses ``DATABASE_URL`` (migrated; the bench's generic token is created if missing) and the
bench settings (``bench/alerts_bench_site.py``: the site plus the bare endpoint). CPU is the
whole process's (``time.process_time``), so the group-commit writer's share counts; the
PostgreSQL backend's is read from /proc.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.alerts_bench_site"
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

TOKEN = "nxa_benchgenx_generic-bench-token"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _environ(path: str, body: bytes, token: str | None) -> dict:
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def _body(n: int, run: str) -> bytes:
    return (
        f'{{"dedup_key":"bench-{n % 500}","id":"{run}-{n}","title":"bench alert",'
        f'"service":"user-service","metric":"cpu_usage_percent","value":75,'
        f'"severity":"warning"}}'
    ).encode()


def _call(app, path: str, n: int, run: str) -> int:  # noqa: ANN001
    status: list[str] = []

    def start_response(s, headers, exc_info=None):  # noqa: ANN001, ANN202
        status.append(s)

    result = app(_environ(path, _body(n, run), TOKEN), start_response)
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return int(status[0].split()[0])


def _backend_ticks() -> int:
    import psycopg
    from django.conf import settings

    s = settings.DATABASES["default"]
    with psycopg.connect(
        host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], dbname="postgres"
    ) as c:
        pids = [
            r[0]
            for r in c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [s["NAME"]],
            )
        ]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total


def measure(app, path: str, count: int, threads: int) -> dict:  # noqa: ANN001
    run = f"p{time.time_ns()}"
    for n in range(50):  # warm: caches, prepared statement, the writer's connection
        _call(app, path, n, run + "w")
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    per = count // threads

    def worker(t: int) -> None:
        for n in range(per):
            s = _call(app, path, t * per + n, run)
            with lock:
                statuses[s] = statuses.get(s, 0) + 1

    from alerts.services.ingest import writer

    batches0 = writer.batches
    pg0, cpu0, wall0 = _backend_ticks(), time.process_time(), time.perf_counter()
    if threads == 1:
        worker(0)  # on this thread, so cProfile sees it
    else:
        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    pg = (_backend_ticks() - pg0) * 1000.0 / CLK_TCK
    done = per * threads
    return {
        "path": path,
        "requests": done,
        "statuses": statuses,
        "process_ms_per_request": round(cpu * 1000 / done, 3),
        "postgres_ms_per_request": round(pg / done, 3),
        "per_s": round(done / wall),
        "requests_per_commit": round(done / max(1, writer.batches - batches0), 2)
        if "alerts" in path
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", choices=["bare", "webhook", "webhook-django"])
    parser.add_argument("--only", help="comma-separated: bare, webhook, webhook-django")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from alerts.models import AlertSource
    from alerts.services import alert_source_create
    from nexusops.wsgi import application

    if not AlertSource.objects.filter(token_prefix="benchgenx").exists():
        alert_source_create(name="bench generic", kind="generic", actor=None, token=TOKEN)
    from django.db import connection

    connection.close()  # the request threads make none of their own on the webhook path
    # "webhook-django": the webhook through Django's handler, without the WSGI front.
    django_app = getattr(application, "app", application)
    runs = {
        "bare": (application, "/api/bench/bare/"),
        "webhook": (application, "/api/alerts/generic/"),
        "webhook-django": (django_app, "/api/alerts/generic/"),
    }
    if args.profile:
        import cProfile
        import pstats

        app, path = runs[args.profile]
        prof = cProfile.Profile(time.thread_time)  # CPU, not the waits
        measure(app, path, 50, 1)
        prof.enable()
        measure(app, path, args.count, args.threads)
        prof.disable()
        stats = pstats.Stats(prof).sort_stats("tottime")
        stats.print_stats(30)
        stats.print_callees("_lead|intake_answer|_answer|alert_events_record|_insert")
        return
    names = args.only.split(",") if args.only else ["bare", "webhook-django", "webhook"]
    for _ in range(args.rounds):
        for name in names:
            app, path = runs[name]
            print(name, measure(app, path, args.count, args.threads), flush=True)


if __name__ == "__main__":
    main()
