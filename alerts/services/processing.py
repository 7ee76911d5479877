"""Process recorded events: dedup into alerts, group by rule and service, then announce.

Batches run one at a time (a locked row) and each is one transaction that marks its events
processed, so a task run twice, or a sweep racing a task, changes nothing. Inside a batch each
group is a savepoint: a group whose processing raises rolls back alone, its events wait with
backoff (``AlertProcessingFailure``) and, after ``ALERTS_GROUP_MAX_ATTEMPTS``, it is dead and
shown on the alerts page until someone retries it; every other group goes on. People hear about
a group only when its status differs from what they were last told (``announced_status``):
one timeline event or Slack line per group state change, however many alerts arrive.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from incidents.models import Service
from nexusops.common import clock

from ..models import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertProcessingFailure,
    AlertRule,
    AlertStatus,
    Level,
    ProcessingLock,
)
from .announce import group_announce
from .batch_writes import alerts_save, events_mark_processed, groups_recount
from .flapping import alert_apply
from .rules import rule_match, service_of

# A batch's fixed cost (the lock, the held groups, rules, services, the group upsert: about
# 12 statements) is paid per batch: 5,000 events spread it over enough alerts to vanish.
BATCH_SIZE = 5000
MAX_BATCHES = 12
FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED
logger = logging.getLogger(__name__)


def max_attempts() -> int:
    """Failed processing attempts of one group before it is dead until someone retries it."""
    return getattr(settings, "ALERTS_GROUP_MAX_ATTEMPTS", 5)


def backoff(attempts: int) -> dt.timedelta:
    base = getattr(settings, "ALERTS_GROUP_BACKOFF_SECONDS", 30.0)
    return dt.timedelta(seconds=min(3600.0, base * 2 ** max(0, attempts - 1)))


def alerts_process(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Process pending events, batch after batch; returns how many were processed.

    A batch is first tried whole, every group at once (a handful of statements for the lot).
    If that raises, the same events are tried again group by group: a group whose processing
    raises is set aside (its events wait, with backoff) and the batch starts again without it,
    so one poisoned group never stops the others.
    """
    return alerts_process_run(batch_size=batch_size, max_batches=max_batches)[0]


def alerts_process_run(
    *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> tuple[int, bool]:
    """``alerts_process``, and whether it stopped for want of batches (events may still be
    pending then; otherwise the last batch was not full, so what arrives after it has a task
    of its own and the caller need not ask)."""
    total = 0
    whole = True
    for _ in range(max_batches):
        fetched, done, failed = _batch(batch_size, whole=whole)
        total += done
        # After a batch that failed whole, the next attempt goes group by group.
        whole = not (failed and whole)
        if not failed and fetched < batch_size:
            return total, False
    return total, True


def alerts_pending() -> bool:
    return _pending(clock.now()).exists()


def _held_keys(now: dt.datetime) -> list[str]:
    """Groups whose events wait: dead, or failed and not due for another attempt yet."""
    held = AlertProcessingFailure.objects.filter(
        Q(dead_at__isnull=False) | Q(next_attempt_at__gt=now)
    )
    return list(held.values_list("key", flat=True))


def _pending(now: dt.datetime):  # noqa: ANN202 - a queryset of AlertEvent
    return AlertEvent.objects.filter(processed_at__isnull=True).exclude(
        group_key__in=_held_keys(now)
    )


class _Event:
    """One pending event as processing reads it: a row, not a model instance (a batch reads
    thousands, and a model's ``__init__`` and descriptors were a fifth of a batch's CPU)."""

    __slots__ = ("pk", "source_id", "fingerprint", "status", "at", "data")

    def __init__(self, pk, source_id, fingerprint, status, at, data) -> None:  # noqa: ANN001
        self.pk, self.source_id, self.fingerprint = pk, source_id, fingerprint
        self.status, self.at, self.data = status, at, data


@dataclass
class _Unit:
    """The events of one batch that go to one group, with what routed them there."""

    key: str
    events: list[_Event] = field(default_factory=list)
    rule: AlertRule | None = None
    service: str = ""
    route_error: Exception | None = None


@transaction.atomic
def _batch(size: int, *, whole: bool = True) -> tuple[int, int, bool]:
    """One batch: (events fetched, events processed, whether a group failed)."""
    try:
        ProcessingLock.objects.select_for_update().get(name="alerts")
    except ProcessingLock.DoesNotExist:  # the first batch ever (one statement less after it)
        ProcessingLock.objects.get_or_create(name="alerts")
        ProcessingLock.objects.select_for_update().get(name="alerts")
    now = clock.now()
    held = set(_held_keys(now))
    rows = (
        AlertEvent.objects.filter(processed_at__isnull=True)
        .exclude(group_key__in=held)
        .order_by("id")
        .annotate(text=Cast("data", TextField()))
        .values_list("pk", "source_id", "fingerprint", "status", "at", "text")[:size]
    )
    # The same alert repeats within a batch, often in the same words: decode each body once.
    decoded: dict[str, dict] = {}
    events = [
        _Event(*row[:5], decoded.get(row[5]) or decoded.setdefault(row[5], json.loads(row[5])))
        for row in rows
    ]
    if not events:
        return 0, 0, False
    rules = list(AlertRule.objects.filter(enabled=True).select_related("severity"))
    alerts = _existing_alerts(events)
    by_key: dict[str, AlertGroup] = {}
    for known in alerts.values():  # one instance per group, so counts add up
        known.group = by_key.setdefault(known.group.key, known.group)
    units = _route(rules, events, alerts)
    _groups_load(list(units), by_key)
    waiting = [u for u in units.values() if u.key in held]
    for unit in waiting:  # newly arrived for a group that is waiting: it waits too
        AlertEvent.objects.filter(pk__in=[e.pk for e in unit.events]).update(group_key=unit.key)
    ready = [u for u in units.values() if u.key not in held]
    if whole and len(ready) > 1 and all(u.route_error is None for u in ready):
        try:
            with transaction.atomic():
                _process_units(ready, alerts, by_key, now)
        except Exception:  # noqa: BLE001 - the next batch finds the group, one by one
            logger.warning("alert batch: processing every group at once failed; one by one")
            return len(events), 0, True
        return len(events), sum(len(u.events) for u in ready), False
    done = 0
    for unit in ready:
        try:
            with transaction.atomic():  # a savepoint: a failing group rolls back alone
                if unit.route_error is not None:
                    raise unit.route_error
                _process_unit(unit, alerts, by_key, now)
        except Exception as exc:  # noqa: BLE001 - any failure of one group is that group's
            logger.exception("alert group %s: processing failed", unit.key)
            _failed(unit, exc, now)
            # Shared in-memory alerts may be half-applied: the next batch reloads them.
            return len(events), done, True
        AlertProcessingFailure.objects.filter(key=unit.key).delete()
        done += len(unit.events)
    return len(events), done, False


def _route(
    rules: list[AlertRule], events: list[_Event], alerts: dict[tuple[int, str], Alert]
) -> dict[str, _Unit]:
    """Each alert's events go to one group: the one its latest firing event routes to, or
    the group it is in. Routing reads only; nothing is written before a group's savepoint."""
    services = set(Service.objects.values_list("slug", flat=True))
    routes: dict[tuple, tuple[AlertRule | None, str]] = {}
    target: dict[tuple[int, str], _Unit] = {}
    units: dict[str, _Unit] = {}
    for event in events:
        ident = (event.source_id, event.fingerprint)
        alert = alerts.get(ident)
        if alert is None or event.status == FIRING:
            try:
                rule, service = _route_one(rules, event.data or {}, services, routes)
                key = f"{rule.slug if rule else 'unrouted'}:{service or '-'}"[:140]
                unit = units.setdefault(key, _Unit(key=key, rule=rule, service=service))
            except Exception as exc:  # noqa: BLE001 - a row no rule can judge fails alone
                key = f"alert:{event.source_id}:{event.fingerprint}"[:140]
                unit = units.setdefault(key, _Unit(key=key, route_error=exc))
            target[ident] = unit
        elif ident not in target:
            key = alert.group.key
            target[ident] = units.setdefault(key, _Unit(key=key, rule=alert.group.rule))
    for event in events:
        target[(event.source_id, event.fingerprint)].events.append(event)
    return {key: unit for key, unit in units.items() if unit.events}


def _route_one(
    rules: list[AlertRule], data: dict, services: set[str], routes: dict
) -> tuple[AlertRule | None, str]:
    """The rule and service of one event. Within a batch the same alert repeats, so the
    answer is remembered by what the rules and the service read: labels, metric, value, hint."""
    labels = data.get("labels") or {}
    value = data.get("value")
    try:
        memo: tuple | None = (
            data.get("metric"),
            type(value).__name__,
            value,
            data.get("level_hint"),
            tuple(sorted(labels.items())),
        )
        hash(memo)
    except TypeError:  # a label value that is not a string: just work it out
        memo = None
    if memo is not None and memo in routes:
        return routes[memo]
    found = rule_match(rules, data), service_of(labels, known=services)
    if memo is not None:
        routes[memo] = found
    return found


def _process_units(
    units: list[_Unit],
    alerts: dict[tuple[int, str], Alert],
    by_key: dict[str, AlertGroup],
    now: dt.datetime,
) -> None:
    """Every group of a batch at once: one upsert of alerts, one update of events, one
    recount, one delete of cleared failures, whatever the number of groups."""
    touched: dict[str, AlertGroup] = {}
    mine: dict[tuple[int, str], Alert] = {}
    for unit in units:
        _apply_unit(unit, _group_for(unit, by_key, now), alerts, touched, mine, now)
    alerts_save(mine)
    events_mark_processed(units, now)
    groups_recount(list(touched.values()), now)
    for each in touched.values():
        group_announce(group=each, now=now)
    AlertProcessingFailure.objects.filter(key__in=[u.key for u in units]).delete()


def _process_unit(
    unit: _Unit,
    alerts: dict[tuple[int, str], Alert],
    by_key: dict[str, AlertGroup],
    now: dt.datetime,
) -> None:
    touched: dict[str, AlertGroup] = {}
    mine: dict[tuple[int, str], Alert] = {}
    _apply_unit(unit, _group_for(unit, by_key, now), alerts, touched, mine, now)
    alerts_save(mine)
    events_mark_processed([unit], now)
    groups_recount(list(touched.values()), now)
    for each in touched.values():
        group_announce(group=each, now=now)


def _apply_unit(
    unit: _Unit,
    group: AlertGroup,
    alerts: dict[tuple[int, str], Alert],
    touched: dict[str, AlertGroup],
    mine: dict[tuple[int, str], Alert],
    now: dt.datetime,
) -> None:
    """Apply a unit's events to its alerts, in memory; note every group they touch."""
    touched.setdefault(group.key, group)
    for event in unit.events:
        ident = (event.source_id, event.fingerprint)
        alert = alerts.get(ident)
        if alert is None:
            alert = alerts[ident] = Alert(
                source_id=event.source_id,
                fingerprint=event.fingerprint,
                first_seen=event.at,
                last_seen=now,
                status_changed_at=event.at,
                status="",
            )
        elif alert.group_id is not None and alert.group.key != group.key:
            touched.setdefault(alert.group.key, alert.group)  # it moves: recount where it was
        alert.group = group
        mine[ident] = alert
        alert_apply(alert, event, now)
        group.event_count += 1
        group.last_seen = now


def _groups_load(keys: list[str], by_key: dict[str, AlertGroup]) -> None:
    """The batch's groups not known yet from its alerts, in one query."""
    missing = [k for k in keys if k not in by_key]
    if missing:
        for group in AlertGroup.objects.filter(key__in=missing).select_related("rule"):
            by_key[group.key] = group


def _failed(unit: _Unit, exc: Exception, now: dt.datetime) -> None:
    # Locked: a person's Retry of this row waits for us, or we read what it wrote.
    failure = AlertProcessingFailure.objects.select_for_update().filter(key=unit.key).first()
    if failure is None:
        failure = AlertProcessingFailure(key=unit.key, first_failed_at=now)
    failure.attempts += 1
    failure.last_failed_at = now
    failure.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if failure.attempts >= max_attempts():
        failure.dead_at, failure.next_attempt_at = now, None
    else:
        failure.next_attempt_at = now + backoff(failure.attempts)
    failure.save()
    AlertEvent.objects.filter(pk__in=[e.pk for e in unit.events]).update(group_key=unit.key)


def _existing_alerts(events: list[_Event]) -> dict[tuple[int, str], Alert]:
    """The batch's known alerts, each with its group; a group (and its rule) is read once,
    not once per alert as ``select_related`` would build it."""
    fingerprints = {e.fingerprint for e in events}
    sources = {e.source_id for e in events}
    found = list(Alert.objects.filter(source_id__in=sources, fingerprint__in=fingerprints))
    groups = AlertGroup.objects.filter(pk__in={a.group_id for a in found}).select_related("rule")
    by_id = {g.pk: g for g in groups}
    for alert in found:
        alert.group = by_id[alert.group_id]
    return {(a.source_id, a.fingerprint): a for a in found}


def _group_for(unit: _Unit, by_key: dict[str, AlertGroup], now: dt.datetime) -> AlertGroup:
    key, rule, service = unit.key, unit.rule, unit.service
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
            first_seen=min(e.at for e in unit.events),
            last_seen=now,
            status_changed_at=now,
        )
    by_key[key] = group
    return group
