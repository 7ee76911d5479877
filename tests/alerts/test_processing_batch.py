"""A batch is processed every group at once: its statement count does not grow with the
number of groups in it (issue 15). Failure isolation (a poisoned group falls back to group by
group) is in test_isolation.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import AlertEvent, AlertGroup
from alerts.services import alerts_process

from .conftest import SERVICES

pytestmark = pytest.mark.django_db

# Warning rules (alerts/seed.py) and a value over each threshold.
METRICS = {
    "cpu_usage_percent": 75,
    "memory_usage_percent": 85,
    "latency_p95_seconds": 1.5,
    "error_rate_percent": 2,
}


def _alerts(groups: int, round_: int) -> list[dict]:
    pairs = [(s, m) for m in METRICS for s in SERVICES][:groups]
    return [
        {
            "dedup_key": f"{service}-{metric}-{n}",
            "id": f"r{round_}-{service}-{metric}-{n}",
            "title": f"{metric} on {service}",
            "service": service,
            "metric": metric,
            "value": METRICS[metric],
        }
        for service, metric in pairs
        for n in range(3)
    ]


def _statements(send, groups: int) -> int:
    send("generic", {"alerts": _alerts(groups, 1)})  # the groups exist and were announced
    send("generic", {"alerts": _alerts(groups, 2)}, process=False)
    with CaptureQueriesContext(connection) as queries:
        assert alerts_process() == groups * 3
    return len(queries)


def test_the_statements_of_a_batch_do_not_grow_with_its_groups(send):
    few = _statements(send, 2)
    AlertEvent.objects.all().delete()
    many = _statements(send, 16)
    assert AlertGroup.objects.count() == 16
    assert many == few, f"{few} statements for 2 groups but {many} for 16"
    assert not AlertEvent.objects.filter(processed_at__isnull=True).exists()
