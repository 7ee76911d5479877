"""CloudWatch (runbook 3.2, 3.3): the recent figures of one metric, as the scenarios read them.

RDS publishes ``ReplicaLag`` under ``AWS/RDS``; ElastiCache ``DatabaseMemoryUsagePercentage``
and ``Evictions`` under ``AWS/ElastiCache``. AWS writes those series itself; moto only
returns what was put into it, so tests and the demo put the points they read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nexusops.common import clock

from .connection import Connection, iso
from .errors import InvalidArgument

STATISTICS = ("Average", "Maximum", "Minimum", "Sum", "SampleCount")


class CloudWatchOperations(Connection):
    def metric_recent(
        self,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        *,
        minutes: int = 15,
        period: int = 60,
        statistic: str = "Average",
    ) -> dict[str, Any]:
        """The points of the last ``minutes``, oldest first, with the latest and the largest.

        ``latest`` is ``None`` when the series has no point in that window (a replica that
        reports nothing is not "0 seconds behind").
        """
        if statistic not in STATISTICS:
            raise InvalidArgument(f"statistic must be one of {', '.join(STATISTICS)}")
        if not 1 <= minutes <= 24 * 60 or period < 60 or period % 60:
            raise InvalidArgument("minutes is 1 to 1440 and period a multiple of 60 seconds")
        end = clock.now()
        start = end - dt.timedelta(minutes=minutes)
        with self._vendor_errors(f"reading {namespace} {metric}"):
            points = self._cloudwatch.get_metric_statistics(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
                StartTime=start,
                EndTime=end,
                Period=period,
                Statistics=[statistic],
            ).get("Datapoints", [])
        points = sorted(points, key=lambda p: p["Timestamp"])
        values = [float(p[statistic]) for p in points]
        return {
            "namespace": namespace,
            "metric": metric,
            "dimensions": dict(dimensions),
            "statistic": statistic,
            "minutes": minutes,
            "points": [{"time": iso(p["Timestamp"]), "value": float(p[statistic])} for p in points],
            "latest": values[-1] if values else None,
            "max": max(values) if values else None,
        }
