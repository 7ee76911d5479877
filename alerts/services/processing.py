"""Process recorded events: dedup into alerts, group by rule and service, then announce.

Batches run one at a time (a locked row) and each is one transaction that marks its events
processed, so a task run twice, or a sweep racing a task, changes nothing. People hear about
a group only when its status differs from what they were last told (``announced_status``):
one timeline event or Slack line per group state change, however many alerts arrive.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q

from incidents.models import Service
from nexusops.common import clock

from ..models import Alert, AlertEvent, AlertGroup, AlertRule, AlertStatus, Level, ProcessingLock
from .announce import group_announce
from .rules import rule_match, service_of

BATCH_SIZE = 1000
MAX_BATCHES = 60
FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED


def flap_window() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "ALERTS_FLAP_WINDOW_MINUTES", 10))


def flap_changes() -> int:
    """Status changes inside the window that make an alert flapping."""
    return getattr(settings, "ALERTS_FLAP_CHANGES", 4)


def alerts_process(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Process pending events, batch after batch; returns how many were processed."""
    ProcessingLock.objects.get_or_create(name="alerts")
    total = 0
    for _ in range(max_batches):
        done = _batch(batch_size)
        total += done
        if done < batch_size:
            break
    return total


def alerts_pending() -> bool:
    return AlertEvent.objects.filter(processed_at__isnull=True).exists()


@transaction.atomic
def _batch(size: int) -> int:
    ProcessingLock.objects.select_for_update().get(name="alerts")
    events = list(AlertEvent.objects.filter(processed_at__isnull=True).order_by("id")[:size])
    if not events:
        return 0
    now = clock.now()
    rules = list(AlertRule.objects.filter(enabled=True).select_related("severity"))
    alerts = _existing_alerts(events)
    by_key: dict[str, AlertGroup] = {}
    for known in alerts.values():  # one instance per group, so counts add up
        known.group = by_key.setdefault(known.group.key, known.group)
    touched: dict[str, AlertGroup] = {}
    for event in events:
        ident = (event.source_id, event.fingerprint)
        alert = alerts.get(ident)
        if alert is None or event.status == FIRING:
            group = _group_for(rules, event, by_key, now)
            if alert is not None and alert.group_id != group.pk:
                touched.setdefault(alert.group.key, alert.group)
            if alert is None:
                alert = alerts[ident] = Alert(
                    source_id=event.source_id,
                    fingerprint=event.fingerprint,
                    first_seen=event.at,
                    last_seen=now,
                    status_changed_at=event.at,
                    status="",
                )
            alert.group = group
        _apply(alert, event, now)
        touched[alert.group.key] = alert.group
        alert.group.event_count += 1
        alert.group.last_seen = now
    _save_alerts(alerts)
    AlertEvent.objects.filter(pk__in=[e.pk for e in events]).update(processed_at=now)
    _recount(list(touched.values()), now)
    for group in touched.values():
        group_announce(group=group, now=now)
    return len(events)


def _existing_alerts(events: list[AlertEvent]) -> dict[tuple[int, str], Alert]:
    fingerprints = {e.fingerprint for e in events}
    sources = {e.source_id for e in events}
    found = Alert.objects.filter(source_id__in=sources, fingerprint__in=fingerprints)
    return {(a.source_id, a.fingerprint): a for a in found.select_related("group")}


def _group_for(
    rules: list[AlertRule], event: AlertEvent, by_key: dict[str, AlertGroup], now: dt.datetime
) -> AlertGroup:
    data = event.data or {}
    rule = rule_match(rules, data)
    service = service_of(data.get("labels") or {})
    key = f"{rule.slug if rule else 'unrouted'}:{service or '-'}"[:140]
    group = by_key.get(key)
    if group is None:
        group = AlertGroup.objects.filter(key=key).first()
    if group is None:
        level = rule.level if rule else Level.WARNING
        name = rule.name if rule else "Unrouted alert"
        title = f"{name} on {service}" if service else name
        group = AlertGroup.objects.create(
            key=key,
            rule=rule,
            rule_name=name,
            level=level,
            service=Service.objects.filter(slug=service).first() if service else None,
            service_slug=service,
            title=title[:200],
            status=RESOLVED,
            first_seen=event.at,
            last_seen=now,
            status_changed_at=now,
        )
    by_key[key] = group
    return group


def _apply(alert: Alert, event: AlertEvent, now: dt.datetime) -> None:
    data = event.data or {}
    alert.event_count += 1
    alert.last_seen = now
    if event.status == FIRING or not alert.title:
        alert.title = (data.get("title") or event.fingerprint)[:200]
        alert.labels = data.get("labels") or {}
        alert.annotations = data.get("annotations") or {}
        alert.value = data.get("value")
        alert.url = (data.get("url") or "")[:500]
    new = not alert.status
    if alert.status == event.status:
        return
    if not new and event.at < alert.status_changed_at:
        return  # a late delivery of an older state: counted, not applied
    alert.status = event.status
    alert.status_changed_at = event.at
    alert.resolved_at = event.at if event.status == RESOLVED else None
    if new:
        return
    window_start = event.at - flap_window()
    flips = [f for f in alert.flips if dt.datetime.fromisoformat(f) >= window_start]
    flips.append(event.at.isoformat())
    alert.flips = flips[-(flap_changes() * 2) :]
    alert.flapping = len(flips) >= flap_changes()


ALERT_FIELDS = [
    "group",
    "status",
    "title",
    "labels",
    "annotations",
    "value",
    "url",
    "last_seen",
    "status_changed_at",
    "resolved_at",
    "event_count",
    "flips",
    "flapping",
]


def _save_alerts(alerts: dict[tuple[int, str], Alert]) -> None:
    """One upsert on (source, fingerprint) for new and known alerts alike: much cheaper
    than ``bulk_update``'s CASE per field and row."""
    Alert.objects.bulk_create(
        list(alerts.values()),
        update_conflicts=True,
        unique_fields=["source", "fingerprint"],
        update_fields=ALERT_FIELDS,
    )


def _recount(groups: list[AlertGroup], now: dt.datetime) -> None:
    counts = {
        row["group"]: row
        for row in Alert.objects.filter(group__in=groups)
        .values("group")
        .annotate(
            total=Count("id"),
            firing=Count("id", filter=Q(status=FIRING)),
            flapping=Count("id", filter=Q(flapping=True)),
        )
    }
    for group in groups:
        row = counts.get(group.pk, {"total": 0, "firing": 0, "flapping": 0})
        group.alert_count = row["total"]
        group.firing_count = row["firing"]
        group.flapping = row["flapping"] > 0
        status = FIRING if row["firing"] else RESOLVED
        if status != group.status:
            group.status = status
            group.status_changed_at = now
    # An upsert on the unique key: one statement, without bulk_update's CASE per field/row.
    AlertGroup.objects.bulk_create(
        groups,
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=[
            "alert_count",
            "firing_count",
            "flapping",
            "status",
            "status_changed_at",
            "event_count",
            "last_seen",
        ],
    )


@transaction.atomic
def alerts_settle(*, now: dt.datetime | None = None) -> int:
    """Sweep: end flapping that has calmed down and announce what silences held back."""
    ProcessingLock.objects.get_or_create(name="alerts")
    ProcessingLock.objects.select_for_update().get(name="alerts")
    now = now or clock.now()
    calm: list[Alert] = []
    for alert in Alert.objects.filter(flapping=True).select_related("group"):
        recent = [f for f in alert.flips if dt.datetime.fromisoformat(f) >= now - flap_window()]
        if len(recent) < flap_changes():
            alert.flapping = False
            alert.flips = recent
            calm.append(alert)
    if calm:
        Alert.objects.bulk_update(calm, ["flapping", "flips"])
        _recount(list({a.group.pk: a.group for a in calm}.values()), now)
    due = AlertGroup.objects.exclude(status=F("announced_status")).filter(flapping=False)
    due = due.filter(Q(silenced_until__isnull=True) | Q(silenced_until__lte=now))
    count = 0
    for group in due.select_related("rule__severity", "incident")[:200]:
        count += int(group_announce(group=group, now=now))
    return count
