"""Alert groups of the past ninety days for the demo: the alerts that opened the demo's past
incidents, and warnings that never needed one (``seed_demo`` only)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from incidents.history import history_incidents
from incidents.models import Channel

from .models import Alert, AlertGroup, AlertRule, AlertSource, AlertStatus

SEED = 20260304
KEY_PREFIX = "history:"


def seed_alert_history(say: Callable[[str], None]) -> None:
    if AlertGroup.objects.filter(key__startswith=KEY_PREFIX).exists():
        return
    source = AlertSource.objects.order_by("pk").first()
    rules = {r.level: r for r in AlertRule.objects.order_by("order")}
    if source is None or not rules:
        return
    rng = random.Random(SEED)
    groups = 0
    for incident in history_incidents():
        service = incident.services.first()
        if service is None:
            continue
        linked = incident.source == Channel.ALERT or incident.severity.code in ("P0", "P1")
        level = "critical" if linked else "warning"
        rule = rules.get(level) or next(iter(rules.values()))
        start = incident.detected_at - dt.timedelta(minutes=rng.randint(0, 3))
        end = incident.mitigated_at
        group = AlertGroup.objects.create(
            key=f"{KEY_PREFIX}{incident.number}",
            rule=rule,
            rule_name=rule.name,
            level=level,
            service=service,
            service_slug=service.slug,
            title=f"{incident.title} ({service.slug})",
            status=AlertStatus.RESOLVED,
            announced_status=AlertStatus.RESOLVED,
            firing_count=0,
            alert_count=0,
            event_count=0,
            first_seen=start,
            last_seen=end,
            status_changed_at=end,
            incident=incident if linked else None,
        )
        count = rng.randint(1, 3)
        Alert.objects.bulk_create(
            Alert(
                source=source,
                fingerprint=f"{KEY_PREFIX}{incident.number}:{n}",
                group=group,
                status=AlertStatus.RESOLVED,
                title=group.title,
                labels={"alertname": rule.name, "service": service.slug, "severity": level},
                first_seen=start,
                last_seen=end,
                status_changed_at=end,
                resolved_at=end,
                event_count=2,
            )
            for n in range(count)
        )
        AlertGroup.objects.filter(pk=group.pk).update(alert_count=count, event_count=2 * count)
        groups += 1
    say(f"alert history: {groups} resolved alert groups")
