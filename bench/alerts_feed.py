"""The processing feed of ``alerts_bench.py --processing`` (run as its own process): pending
alert events at a set pace, each 0.1 s tick one ``COPY`` into the table the webhook writes,
then one processing task queued as the webhook's writer queues it. No HTTP and no Django ORM
in front: the load is the worker's, and the feed must keep up with 5,000 alerts/s on a loaded
two-core machine, which the webhook's own parameterised INSERT from one Python process did
not (2,680/s at best).

2,000 alerts over 50 services ``svc-00``..``svc-49``: 9 in 10 a CPU warning, 1 in 10 an error
rate that pages (critical). Usage: ``alerts_feed.py RATE SECONDS``; prints the events fed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

import django

django.setup()

from django.db import connection  # noqa: E402

from alerts.models import AlertEvent, AlertSource  # noqa: E402
from alerts.services.ingest import processing_schedule  # noqa: E402

COLUMNS = "source_id, event_key, fingerprint, status, at, data, received_at"


def bodies() -> list[str]:
    out = []
    for k in range(2000):
        critical = k % 10 == 0
        metric = "error_rate_percent" if critical else "cpu_usage_percent"
        data = {
            "title": "bench",
            "labels": {"service": f"svc-{k % 50:02d}", "metric": metric},
            "annotations": {},
            "url": "",
            "level_hint": "",
            "metric": metric,
            "value": 30 if critical else 75,
        }
        out.append(json.dumps(data))
    return out


def main() -> None:
    rate, seconds, tick = int(sys.argv[1]), float(sys.argv[2]), 0.1
    source = AlertSource.objects.get(kind="generic").pk
    data = bodies()
    run, n, t0 = os.getpid(), 0, time.monotonic()
    sql = f"COPY {AlertEvent._meta.db_table} ({COLUMNS}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY is not in Django's API
        while (elapsed := time.monotonic() - t0) < seconds:
            due = int(rate * min(seconds, elapsed + tick))
            now = dt.datetime.now(dt.UTC)
            with raw.copy(sql) as copy:
                for i in range(n, due):
                    k = (i * 7919) % 2000
                    copy.write_row(
                        (source, f"feed-{run}-{i}", f"fp-{k}", "firing", now, data[k], now)
                    )
            n = due
            processing_schedule()
            time.sleep(max(0.0, t0 + (elapsed + tick) - time.monotonic()))
    print(n)


if __name__ == "__main__":
    main()
