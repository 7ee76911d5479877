"""gunicorn settings for production: ``gunicorn -c nexusops/gunicorn.conf.py nexusops.wsgi``.

Metrics: each worker process writes its counters to files in ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multiprocess mode) and ``/metrics`` adds them up, whichever worker
answers. Its metric files are removed when the server starts, so a restart never counts a
previous run's requests; left unset, a fresh temporary folder is used.
Logs: gunicorn's own lines (boot, worker exits) in the same JSON as the console's in production.
Threads: each worker process serves several requests at once (``gthread``), so the alert
webhooks' group commit has more than one request to write in one commit (with the default
sync worker every alert paid a commit of its own). The command line can still choose another.
Everything else (workers, bind, timeouts) stays on the command line or ``GUNICORN_CMD_ARGS``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="nexusops-metrics-")

worker_class = "gthread"
threads = 4
# Off: the console logs one line per request itself (with its request id, view and time).
accesslog = None
# gunicorn's control socket lives in $HOME by default: two servers on one machine (or a
# read-only home in a container) would trip over it, and nothing here uses it.
control_socket_disable = True

_production = os.environ.get("NEXUSOPS_MODE", "").strip().lower() == "production"
_json = os.environ.get("NEXUSOPS_LOG_FORMAT", "json" if _production else "plain") == "json"
if _json:
    logconfig_dict = {
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
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's hook signature
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    # Only prometheus-client's own files ("counter_<pid>.db", ...): a mistyped folder loses
    # nothing else.
    for entry in folder.glob("*.db"):
        entry.unlink()


def child_exit(server, worker) -> None:  # noqa: ANN001
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
