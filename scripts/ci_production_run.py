"""CI's production-mode run: the console started the way production starts it, end to end.

NEXUSOPS_MODE=production on PostgreSQL (a database of its own, recreated) and Redis (a
database of its own, flushed): ``check --deploy``, ``migrate``, ``seed_reference``,
``collectstatic``, two people made with ``create_user``; then the web server with 2 workers
(``nexusops.serve``: granian, metrics in multiprocess mode), two Celery workers, one beat and
the vendor stand-ins (``python -m nexusops.standins``, as ``make run`` starts them). It
declares an incident through the API and waits for it at the Slack and PagerDuty stand-ins,
checks ``/readyz``, ``/metrics`` (token, gauges, counters added up across both web
workers) and the JSON logs (request id and incident number in web and worker lines), then
stops everything with SIGTERM and requires every process to exit 0 with nothing left behind.

Any failure prints one line saying what failed, the tail of each process's log, and exits 1.
Run by ``.ci/run`` after ``make test``; by hand: ``python scripts/ci_production_run.py``
(``--database`` and ``--redis-db`` choose other scratch databases). Needs PostgreSQL and
Redis on 127.0.0.1 (CI starts them). Takes about a minute.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nexusops.standins import demo  # noqa: E402 - the stand-ins' ports and tokens, no Django
from nexusops.standins.control import StandinControl  # noqa: E402

PY = sys.executable
REQUEST_ID = "ci-production-run-declare"
STOP_TIMEOUT = 30.0


class Failed(Exception):
    pass


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    exit_code: int | None = None


@dataclass
class Run:
    folder: Path
    env: dict[str, str]
    port: int
    procs: list[Proc] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {message}", flush=True)

    # --- processes --------------------------------------------------------------------------

    def manage(self, *args: str, stdin: str = "") -> str:
        result = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise Failed(
                f"manage.py {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-2000:]}{result.stderr[-3000:]}"
            )
        return result.stdout

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Proc:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped and checked as one
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def all_alive(self) -> None:
        for proc in self.procs:
            code = proc.popen.poll()
            if code is not None:
                raise Failed(f"{proc.name} exited early with {code}")

    def stop_all(self, *, strict: bool) -> list[str]:
        """SIGTERM every process group, wait, and report what did not exit cleanly."""
        problems = []
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                _signal_group(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in reversed(self.procs):
            try:
                proc.exit_code = proc.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                problems.append(f"{proc.name} did not exit within {STOP_TIMEOUT:.0f}s of SIGTERM")
                _signal_group(proc.popen.pid, signal.SIGKILL)
                proc.exit_code = proc.popen.wait()
                continue
            if strict and proc.exit_code != 0:
                problems.append(f"{proc.name} exited {proc.exit_code} after SIGTERM")
            # The group must be empty: no worker child or thread-spawned process left behind.
            for _ in range(50):
                if not _group_alive(proc.popen.pid):
                    break
                time.sleep(0.1)
            else:
                problems.append(f"{proc.name} left processes behind in its group")
                _signal_group(proc.popen.pid, signal.SIGKILL)
        return problems

    # --- HTTP ---------------------------------------------------------------------------------

    def http(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request to the web server, no redirect followed (a redirect is an answer)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        sent = {"Host": "127.0.0.1", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            # Case-blind headers: granian sends their names in lower case.
            return response.status, response.headers, response.read()
        finally:
            conn.close()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _standin_base() -> int:
    """A base port whose next six ports are free (the stand-ins take base+1 … base+6)."""
    for base in range(18300, 19300, 10):
        if all(_free(base + n) for n in range(1, 7)):
            return base
    raise Failed("no six free ports for the stand-ins between 18300 and 19300")


def wait(what: str, check, timeout: float, run: Run, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        run.all_alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def fresh_databases(database: str, redis_db: int) -> tuple[str, str]:
    import psycopg
    import redis

    if not (_answers(5432) and _answers(6379)):
        raise Failed("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running")
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{database}"')
    broker = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(broker).flushdb()
    return f"postgres://postgres@127.0.0.1:5432/{database}", broker


def production_env(folder: Path, database_url: str, broker: str, port: int, base: int) -> dict:
    var = folder / "var"
    var.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXUSOPS_", "DJANGO_"))}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    env.update(
        {
            "NEXUSOPS_MODE": "production",
            "NEXUSOPS_VAR_DIR": str(var),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": broker,  # throttle counters shared by both web workers
            "EMAIL_URL": "consolemail://",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "SLACK_ANNOUNCE_CHANNEL": "",
            "PYTHONUNBUFFERED": "1",
            "NEXUSOPS_STANDIN_PORT_BASE": str(base),
            # Beat's sweeps a little faster than production's defaults, so the run is short.
            "OUTBOX_RELAY_SECONDS": "5",
        }
    )
    env.update(demo.settings_defaults(var, base=base))
    env["SLACK_ANNOUNCE_CHANNEL"] = ""
    return env


def json_lines(path: Path) -> tuple[list[dict], list[str]]:
    parsed, other = [], []
    for raw in path.read_text(errors="replace").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            other.append(raw)
            continue
        (parsed if isinstance(line, dict) else other).append(
            line if isinstance(line, dict) else raw
        )
    return parsed, other


def metrics(run: Run, token: str):
    from prometheus_client.parser import text_string_to_metric_families

    status, _, body = run.http("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    if status != 200:
        raise Failed(f"/metrics with the token answered {status}: {body[:300]!r}")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="nexusops_prod")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="Keep the logs folder afterwards.")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="nexusops-production-run-"))
    port, base = _free_port(), _standin_base()
    run = Run(folder=folder, env={}, port=port)
    ok = False
    try:
        database_url, broker = fresh_databases(options.database, options.redis_db)
        run.env = production_env(folder, database_url, broker, port, base)
        run.say(f"production mode on {database_url} and {broker}; logs in {folder}")
        steps(run, base)
        ok = True
    except Failed as exc:
        print(f"\nPRODUCTION RUN FAILED: {exc}", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - anything else fails the run too, said plainly
        traceback.print_exc()
        print(f"\nPRODUCTION RUN FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        problems = run.stop_all(strict=ok)
        if ok and problems:
            print("\nPRODUCTION RUN FAILED: unclean shutdown:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            ok = False
        if not ok:
            for proc in run.procs:
                tail = proc.log.read_text(errors="replace").splitlines()[-40:]
                print(f"\n--- {proc.name} (exit {proc.exit_code}), last lines of {proc.log}:")
                print("\n".join(tail))
        elif not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if ok:
        run.say("clean shutdown: every process exited 0. Production run passed.")
    return 0 if ok else 1


def steps(run: Run, base: int) -> None:
    env = run.env
    run.say("check --deploy, migrate, seed_reference, collectstatic")
    run.manage("check", "--deploy", "--fail-level", "WARNING")
    run.manage("migrate", "--noinput")
    run.manage("seed_reference")
    run.manage("collectstatic", "--noinput", "-v", "0")

    run.say("people: create_user (an incident commander with an API token, a manager)")
    out = run.manage("create_user", "ci-commander", "--role", "incident-commander", "--api-token")
    token = next(
        (line.removeprefix("Token: ") for line in out.splitlines() if line.startswith("Token: ")),
        None,
    )
    if not token:
        raise Failed(f"create_user --api-token printed no token:\n{out}")
    run.manage(
        "create_user",
        "ci-manager",
        "--role",
        "manager",
        "--password-stdin",
        stdin=secrets.token_urlsafe(24) + "\n",
    )

    run.say(f"stand-ins on ports {base + 1}-{base + 6}")
    run.start("standins", [PY, "-m", "nexusops.standins"])
    for name in ("slack", "pagerduty"):
        port = base + demo.PORTS[name] - demo.BASE_PORT
        wait(f"the {name} stand-in on :{port}", lambda p=port: _answers(p), 60, run)
    ca = demo.ca_path(Path(env["NEXUSOPS_VAR_DIR"]))
    wait("the PagerDuty stand-in's CA file", ca.exists, 30, run)
    slack = StandinControl(demo.url("slack", base=base))
    pagerduty = StandinControl(
        demo.url("pagerduty", "https", base=base),
        ssl_context=ssl.create_default_context(cafile=str(ca)),
    )

    multiproc = run.folder / "metrics"
    run.say(f"web server (granian, 2 workers) on :{run.port}, two Celery workers, one beat")
    run.start(
        "web",
        [
            PY,
            "-m",
            "nexusops.serve",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{run.port}",
            "--kill-timeout",
            "10",
        ],  # fmt: skip
        {"PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
    )
    for n in (1, 2):
        run.start(
            f"worker-{n}",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "nexusops",
                "worker",
                "-Q",
                "default,notifications,remediation",
                "--concurrency",
                "1",
                "-n",
                f"ci-worker-{n}@%h",
                "-l",
                "info",
            ],  # fmt: skip
        )
    run.start("beat", [PY, "-m", "celery", "-A", "nexusops", "beat", "-l", "info"])

    def ready() -> bool:
        try:
            return run.http("GET", "/readyz")[0] == 200
        except OSError:
            return False

    wait("/readyz to answer 200", ready, 90, run)
    status, _, body = run.http("GET", "/readyz")
    run.say(f"/readyz {status}: {body.decode()}")

    # Behind a TLS proxy: production redirects plain HTTP, so say it came over HTTPS.
    status, _, body = run.http("GET", "/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    if status != 200 or b"/static/" not in body:
        raise Failed(f"the sign-in page answered {status} (static files?): {body[:300]!r}")
    api = {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}
    status, _, _ = run.http("GET", "/api/me/", headers={"Authorization": f"Token {token}"})
    if status != 301:
        raise Failed(f"plain-HTTP API call answered {status}, expected the 301 to HTTPS")
    status, headers, body = run.http(
        "POST",
        "/api/incidents/",
        {
            "title": "Checkout 5xx (CI production run)",
            "severity": "P1",
            "services": ["api-gateway"],
        },
        headers={**api, "X-Request-ID": REQUEST_ID},
    )
    if status != 201:
        raise Failed(f"declaring through the API answered {status}: {body[:500]!r}")
    if headers.get("X-Request-ID") != REQUEST_ID:
        raise Failed(f"the response did not echo X-Request-ID: {headers}")
    number = json.loads(body)["number"]
    run.say(f"declared {number} through the API")

    channel = f"incident-{number.lower().removeprefix('inc-')}"

    def slack_got_it():
        created = [
            r for r in slack.received("/api/conversations.create") if channel in json.dumps(r)
        ]
        posted = [r for r in slack.received("/api/chat.postMessage") if r.get("status") == 200]
        return created and posted

    def pagerduty_got_it():
        return [
            r
            for r in pagerduty.received("/v2/enqueue")
            if number in json.dumps(r) and r.get("status") in (200, 202)
        ]

    wait(f"#{channel} and a post at the Slack stand-in", slack_got_it, 60, run)
    wait(f"a PagerDuty event for {number}", pagerduty_got_it, 60, run)
    run.say(f"Slack has #{channel} with posts; PagerDuty has the event for {number}")

    # /metrics: refused without the token, and the gauges and counters with it.
    status, _, _ = run.http("GET", "/metrics")
    if status != 401:
        raise Failed(f"/metrics without a token answered {status}, expected 401")
    probes = 20
    for _ in range(probes):
        if run.http("GET", "/healthz")[0] != 200:
            raise Failed("/healthz did not answer 200")
    metric_token = env["METRICS_TOKEN"]

    def drained():
        samples = metrics(run, metric_token)
        return samples.get(("nexusops_outbox_oldest_pending_age_seconds", ())) == 0 and samples

    samples = wait("the outbox to drain (oldest pending age 0)", drained, 60, run, interval=1)
    expected = {
        ("nexusops_incidents_open", (("severity", "P1"),)): 1,
        ("nexusops_incidents_open", (("severity", "P0"),)): 0,
        ("nexusops_outbox_messages", (("state", "dead"),)): 0,
        ("nexusops_timers_dead", ()): 0,
        ("nexusops_up", (("part", "database"),)): 1,
        ("nexusops_up", (("part", "broker"),)): 1,
        (
            "nexusops_http_requests_total",
            (("method", "GET"), ("status", "200"), ("view", "healthz")),
        ): probes,
        (
            "nexusops_http_requests_total",
            (("method", "POST"), ("status", "201"), ("view", "api-incident-list")),
        ): 1,
    }
    for key, value in expected.items():
        if samples.get(key) != value:
            raise Failed(f"/metrics: {key} is {samples.get(key)}, expected {value}")
    for queue in ("default", "notifications", "remediation"):
        if ("nexusops_celery_queue_length", (("queue", queue),)) not in samples:
            raise Failed(f"/metrics has no queue length for {queue}")
    for name in ("nexusops_timers_due", "nexusops_alert_events_pending"):
        if (name, ()) not in samples:
            raise Failed(f"/metrics has no {name}")
    writers = {p.name.rsplit("_", 1)[-1] for p in multiproc.glob("counter_*.db")}
    if len(writers) < 2:
        raise Failed(f"only {len(writers)} web worker wrote metrics; expected both")
    run.say(
        f"/metrics: 401 without the token; {probes} /healthz counted across {len(writers)} "
        f"web workers; P1 open 1, dead messages 0, queues "
        + ", ".join(
            f"{q}={samples[('nexusops_celery_queue_length', (('queue', q),))]:.0f}"
            for q in ("default", "notifications", "remediation")
        )
    )

    # Logs: JSON from granian and Django; the worker's lines name the request and incident.
    web, not_json = json_lines(run.folder / "web.log")
    if not_json:
        raise Failed(f"web.log has lines that are not JSON: {not_json[:3]}")
    declared = [
        line
        for line in web
        if line.get("request_id") == REQUEST_ID and line.get("incident") == number
    ]
    if not any(line.get("logger") == "nexusops.request" for line in declared):
        raise Failed(f"no web log line with request_id={REQUEST_ID} and incident={number}")
    workers = [line for n in (1, 2) for line in json_lines(run.folder / f"worker-{n}.log")[0]]
    delivered = [
        line
        for line in workers
        if line.get("request_id") == REQUEST_ID
        and line.get("incident") == number
        and line.get("task") == "nexusops.engine.tasks.outbox_deliver_task"
    ]
    if not delivered:
        raise Failed(f"no worker log line about delivering {number} with the request id")
    run.say(
        f"logs: {len(web)} JSON lines from the web server; {len(delivered)} worker lines deliver "
        f"{number} under request id {REQUEST_ID}"
    )
    run.say("stopping everything with SIGTERM")


if __name__ == "__main__":
    sys.exit(main())
