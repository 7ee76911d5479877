"""The web server for production: ``python -m nexusops.serve [--bind H:P] [--workers N]``.

Granian (a Rust HTTP server) runs ``nexusops.wsgi:application``: pages, the API and the alert
webhooks. It replaced gunicorn because the alert intake's cost per request was mostly the
server's own (HTTP parsing, the thread hand-off, the write), not ours: a single alert costs
less than half the server CPU it did under gunicorn's threaded workers (issue 15;
``bench/README.md``). Each worker process runs WSGI requests on ``--threads`` Python threads,
so the webhooks' group commit has several requests to write in one commit.

What this adds to granian's own command line:

* Metrics: each worker process writes its counters to files in ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus-client's multiprocess mode) and ``/metrics`` adds them up, whichever worker
  answers. The previous run's metric files are removed before the workers start, so a
  restart never counts old requests; left unset, a fresh temporary folder is used.
* Logs: granian's own lines (start, worker exits) in the same JSON as the console's in
  production. No access log: the console logs one line per request itself.
* Defaults from the environment: ``WEB_WORKERS`` and ``WEB_THREADS`` (2 and 8), and
  ``WEB_KILL_TIMEOUT`` (30 s for a worker's requests to finish on SIGTERM).
* A limit on each SQL statement of a request (``--statement-timeout``, ``WEB_STATEMENT_TIMEOUT``,
  30 s; 0 for none), passed to the workers' settings as ``DATABASE_STATEMENT_TIMEOUT``.
  granian has no per-request timeout, so without it a request stuck behind a lock would
  hold one of its process's threads until the lock goes; with it, the statement is
  cancelled and the request answers 503 (the API and the webhooks with ``Retry-After``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

TARGET = "nexusops.wsgi:application"
WORKERS, THREADS, KILL_TIMEOUT = 2, 8, 30
STATEMENT_TIMEOUT = 30


def metrics_folder() -> Path:
    """The multiprocess metrics folder, made if missing, without the previous run's files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="nexusops-metrics-")
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    # Only prometheus-client's own files ("counter_<pid>.db", ...): a mistyped folder loses
    # nothing else.
    for entry in folder.glob("*.db"):
        entry.unlink()
    return folder


def log_config() -> dict[str, Any] | None:
    """granian's logging in the console's JSON in production (or NEXUSOPS_LOG_FORMAT=json);
    None keeps granian's plain lines."""
    production = os.environ.get("NEXUSOPS_MODE", "").strip().lower() == "production"
    if os.environ.get("NEXUSOPS_LOG_FORMAT", "json" if production else "plain") != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "nexusops.common.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def _env_whole(name: str, default: int, least: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None
    if value < least:
        raise SystemExit(f"{name}={raw!r} must be at least {least}")
    return value


def _bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - a server in a container


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m nexusops.serve", description=__doc__)
    parser.add_argument("--bind", type=_bind, default=("0.0.0.0", 8000), help="HOST:PORT")  # noqa: S104
    parser.add_argument("--workers", type=int, default=_env_whole("WEB_WORKERS", WORKERS))
    parser.add_argument("--threads", type=int, default=_env_whole("WEB_THREADS", THREADS))
    parser.add_argument(
        "--kill-timeout",
        type=int,
        default=_env_whole("WEB_KILL_TIMEOUT", KILL_TIMEOUT),
        help="seconds a stopping worker has to finish its requests",
    )
    parser.add_argument(
        "--statement-timeout",
        type=int,
        default=_env_whole("WEB_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT, least=0),
        help="seconds a request's SQL statement may run or wait for a lock (0: no limit)",
    )
    args = parser.parse_args(argv)
    for name in ("workers", "threads", "kill_timeout"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.statement_timeout < 0:
        parser.error("--statement-timeout must be at least 0")
    return args


def server(args: argparse.Namespace):  # noqa: ANN201 - granian is imported here, not above
    """The configured granian server (not started)."""
    from granian import Granian
    from granian.constants import Interfaces

    host, port = args.bind
    return Granian(
        TARGET,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        blocking_threads=args.threads,
        websockets=False,
        log_dictconfig=log_config(),
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=args.kill_timeout,
    )


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    metrics_folder()
    # Read by the workers' settings (nexusops/settings.py), which granian's workers load.
    os.environ["DATABASE_STATEMENT_TIMEOUT"] = str(args.statement_timeout)
    server(args).serve()


if __name__ == "__main__":
    main()
