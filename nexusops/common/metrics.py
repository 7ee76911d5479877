"""The console's own Prometheus metrics that processes count as they go (prometheus-client).

Counters and histograms only: under the web server each worker writes them to files in
``PROMETHEUS_MULTIPROC_DIR`` (set before this module is first imported, as
``nexusops/serve.py`` does) and ``/metrics`` adds them up across workers. Without
that variable (runserver, tests) they live in this process's default registry. What the
database knows (outbox, timers, incidents) is not counted here but read at scrape time by
``monitoring.gauges``.

To count one more thing: declare it here (names start ``nexusops_``), increment it where it
happens, and add it to the README's metric table.
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# The classic text format every Prometheus 2.x and 3.x reads (generate_latest writes it).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

HTTP_REQUESTS = Counter(
    "nexusops_http_requests",
    "HTTP requests answered, by view (URL name), method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "nexusops_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
ALERT_EVENTS_RECEIVED = Counter(
    "nexusops_alert_events_received",
    "Alert notifications accepted by the intake endpoints, by source kind.",
    ["source_kind"],
)

# Requests that matched no URL share one label value, so a scanner cannot grow the series.
UNMATCHED = "unmatched"


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """This process's view of the counters (every web worker's), as Prometheus text."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE
    return generate_latest(REGISTRY), CONTENT_TYPE
