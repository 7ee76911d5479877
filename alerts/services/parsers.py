"""The vendors' webhook parsers: Alertmanager v4, Datadog (the template in alerts/README.md)
and generic JSON. Each takes the decoded JSON and returns ``ParsedAlert`` values or raises
``PayloadError`` naming the first problem; nothing is recorded then.

To add a vendor: write ``parse_<kind>(body, now) -> list[ParsedAlert]`` with the readers of
``parsing``, add it to ``PARSERS`` and add the kind to ``AlertSource.Kind``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .parsing import (  # noqa: F401 - decode and PayloadError are part of this API
    MAX_ALERTS,
    MAX_KEY,
    MAX_LABELS,
    MAX_TEXT,
    MAX_VALUE,
    ParsedAlert,
    PayloadError,
    _epoch,
    _iso,
    _key,
    _level,
    _list,
    _metric_and_value,
    _number,
    _obj,
    _only,
    _str_map,
    _text,
    decode,
)

# --- Prometheus Alertmanager webhook (version 4) --------------------------------------------
AM_TOP = frozenset(
    {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
)
AM_ALERT = frozenset(
    {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}
)


def parse_alertmanager(body: object, now: dt.datetime) -> list[ParsedAlert]:
    body = _obj(body, "The body")
    _only(body, AM_TOP, "the Alertmanager message")
    version = body.get("version")
    if version != "4":
        raise PayloadError(f"Alertmanager webhook version {str(version)[:10]!r}; expected '4'.")
    truncated = body.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise PayloadError("truncatedAlerts must be a whole number of 0 or more.")
    for name in ("groupKey", "receiver", "externalURL"):
        _text(body.get(name), name)
    common = _str_map(body.get("commonLabels"), "commonLabels")
    _str_map(body.get("groupLabels"), "groupLabels")
    _str_map(body.get("commonAnnotations"), "commonAnnotations")
    out = []
    for n, item in enumerate(_list(body.get("alerts"), "alerts")):
        where = f"alerts[{n}]"
        alert = _obj(item, where)
        _only(alert, AM_ALERT, where)
        status = _text(alert.get("status"), f"{where}.status", limit=10)
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{where}.status must be 'firing' or 'resolved'.")
        labels = {**common, **_str_map(alert.get("labels"), f"{where}.labels")}
        if not labels:
            raise PayloadError(f"{where}.labels is empty.")
        annotations = _str_map(alert.get("annotations"), f"{where}.annotations")
        starts = _iso(alert.get("startsAt"), f"{where}.startsAt", now)
        if starts is None:
            raise PayloadError(f"{where}.startsAt is required.")
        ends = _iso(alert.get("endsAt"), f"{where}.endsAt", now)
        if status == "resolved" and ends is None:
            raise PayloadError(f"{where}.endsAt is required for a resolved alert.")
        fingerprint = _text(alert.get("fingerprint"), f"{where}.fingerprint", limit=200)
        if not fingerprint:
            fingerprint = _key(*sorted(labels.items()))[:32]
        metric, value = _metric_and_value(labels, annotations, where)
        at = ends if status == "resolved" and ends is not None else starts
        out.append(
            ParsedAlert(
                fingerprint=fingerprint,
                event_key=_key("am", fingerprint, status, starts.isoformat(), ends or ""),
                status=status,
                at=at,
                title=(annotations.get("summary") or labels.get("alertname") or fingerprint)[:200],
                labels=labels,
                annotations=annotations,
                level_hint=_level(labels.get("severity", "")),
                metric=metric or labels.get("alertname", ""),
                value=value,
                url=_text(alert.get("generatorURL"), f"{where}.generatorURL", limit=500),
            )
        )
    return out


# --- Datadog webhook ------------------------------------------------------------------------
# Datadog's payload is whatever template the user wrote, filled with its $VARIABLES; it does
# not retry a 4xx, so refusing a field we do not know loses the alert. We read the fields we
# understand, under the names people give them (our README's, the variable's own name in lower
# case, Datadog's default payload), and ignore the rest: the body limit still bounds them.
DD_NAMES: dict[str, tuple[str, ...]] = {
    # what we read: the keys it may arrive under, first found wins
    "id": ("id", "event_id"),  # $ID
    "alert_id": ("alert_id",),  # $ALERT_ID (the monitor)
    "aggregation_key": ("aggregation_key", "aggreg_key", "aggregate_key"),  # $AGGREG_KEY
    "cycle_key": ("cycle_key", "alert_cycle_key"),  # $ALERT_CYCLE_KEY
    "transition": ("transition", "alert_transition"),  # $ALERT_TRANSITION
    "alert_type": ("alert_type",),  # $ALERT_TYPE: error, warning, success, info
    "priority": ("priority", "alert_priority"),  # $PRIORITY (normal/low), $ALERT_PRIORITY (P1)
    "title": ("title", "event_title", "alert_title"),  # $EVENT_TITLE, $ALERT_TITLE
    "body": ("body", "event_msg", "text_only_msg", "message"),  # $EVENT_MSG
    "metric": ("metric", "alert_metric"),  # $ALERT_METRIC
    "value": ("value",),
    "scope": ("scope", "alert_scope"),  # $ALERT_SCOPE
    "status": ("alert_status",),  # $ALERT_STATUS: a sentence, e.g. "... was > 0 ..."
    "tags": ("tags",),  # $TAGS
    "date": ("date", "date_posix", "last_updated"),  # $DATE (ms), $DATE_POSIX, $LAST_UPDATED
    "link": ("link", "url"),  # $LINK
    "hostname": ("hostname", "host"),  # $HOSTNAME
    "org": ("org",),  # {"id": "$ORG_ID", "name": "$ORG_NAME"}
    "event_type": ("event_type",),  # $EVENT_TYPE, e.g. metric_alert_monitor
}
DD_RESOLVED = {"recovered", "warn recovered", "no data recovered"}
DD_FIRING = {"triggered", "re-triggered", "renotify", "no data", "warn", "re-warn", "re-no data"}
# A monitor event's title starts with its transition: "[Triggered] ...", "[Recovered on
# {host:web-1}] ...", "[P1] [Re-Triggered] ..." (the priority comes first when set).
DD_TITLE_TRANSITION = re.compile(
    r"^\s*(?:\[P\d\]\s*)?\[(?P<transition>[A-Za-z][A-Za-z -]*?)(?:\s+on\s+\{[^}]*\})?\]\s*"
)
DD_UNSET = re.compile(r"^\$[A-Z][A-Z_]*$")  # a variable Datadog left unfilled for this event


def _dd(obj: dict, name: str) -> object:
    for key in DD_NAMES[name]:
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, str) and DD_UNSET.match(value.strip()):
            continue
        return value
    return None


def _tags(value: object) -> dict[str, str]:
    if isinstance(value, list):
        value = ",".join(_text(v, "tags[]", limit=MAX_VALUE) for v in value)
    text = _text(value, "tags", limit=MAX_TEXT)
    labels: dict[str, str] = {}
    for tag in text.split(","):
        tag = tag.strip()
        if not tag:
            continue
        name, _, val = tag.partition(":")
        labels[name[:MAX_KEY]] = val[:MAX_VALUE]
        if len(labels) > MAX_LABELS:
            raise PayloadError(f"tags has more than {MAX_LABELS} entries.")
    return labels


def _dd_transition(obj: dict, title: str, where: str) -> str:
    transition = _text(_dd(obj, "transition"), f"{where}.transition", limit=40).strip().lower()
    if not transition:  # Datadog's default payload has no transition: its title carries it
        found = DD_TITLE_TRANSITION.match(title)
        transition = found["transition"].strip().lower() if found else ""
    if not transition:
        alert_type = _text(_dd(obj, "alert_type"), f"{where}.alert_type", limit=20).lower()
        if alert_type == "success":
            return "recovered"
        if alert_type in ("error", "warning"):
            return "triggered" if alert_type == "error" else "warn"
        raise PayloadError(
            f"{where} has no $ALERT_TRANSITION, and its title does not start with one."
        )
    return transition


def _dd_fingerprint(obj: dict, title: str, scope: str, where: str) -> str:
    aggregation = _text(_dd(obj, "aggregation_key"), f"{where}.aggregation_key", limit=200)
    if aggregation.strip():
        return aggregation.strip()
    # Without $AGGREG_KEY (Datadog's default payload): the monitor and its scope, else the
    # title without its "[Triggered]" prefix, so triggered and recovered meet on one alert.
    monitor = _text(_dd(obj, "alert_id"), f"{where}.alert_id", limit=64).strip()
    if monitor:
        return _key("dd-monitor", monitor, scope)[:40]
    bare = DD_TITLE_TRANSITION.sub("", title, count=1).strip()
    if not bare:
        raise PayloadError(f"{where} needs $AGGREG_KEY, $ALERT_ID or $EVENT_TITLE.")
    return _key("dd-title", bare)[:40]


def _datadog_one(item: object, where: str, now: dt.datetime) -> ParsedAlert:
    obj = _obj(item, where)
    title = _text(_dd(obj, "title"), f"{where}.title", limit=MAX_TEXT).strip()
    transition = _dd_transition(obj, title, where)
    if transition in DD_RESOLVED:
        status = "resolved"
    elif transition in DD_FIRING:
        status = "firing"
    else:
        raise PayloadError(
            f"{where}.transition {transition[:40]!r} is not a Datadog $ALERT_TRANSITION."
        )
    at = _epoch(_dd(obj, "date"), f"{where}.date", now)
    labels = _tags(_dd(obj, "tags"))
    if _dd(obj, "org") is not None:
        _str_map(_dd(obj, "org"), f"{where}.org")
    scope = _text(_dd(obj, "scope"), f"{where}.scope", limit=MAX_VALUE)
    fingerprint = _dd_fingerprint(obj, title, scope, where)
    alert_type = _text(_dd(obj, "alert_type"), f"{where}.alert_type", limit=20).lower()
    hint = "warning" if transition in ("warn", "re-warn") or alert_type == "warning" else ""
    priority = _text(_dd(obj, "priority"), f"{where}.priority", limit=MAX_VALUE)
    if not hint:
        hint = _level(labels.get("severity", "")) or (
            "critical" if alert_type == "error" or priority.upper() in ("P1", "P0") else ""
        )
    cycle = _text(_dd(obj, "cycle_key"), f"{where}.cycle_key", limit=200)
    event_id = _text(_dd(obj, "id"), f"{where}.id", limit=64)
    body_text = _text(_dd(obj, "body"), f"{where}.body")
    annotations = {"summary": title[:MAX_VALUE]} if title else {}
    if body_text:
        annotations["description"] = body_text[:MAX_VALUE]
    for name in ("alert_id", "status", "event_type", "hostname"):
        text = _text(_dd(obj, name), f"{where}.{name}", limit=MAX_VALUE)
        if text:
            annotations[name] = text
    if priority:
        annotations["priority"] = priority
    if scope:
        annotations["scope"] = scope
    return ParsedAlert(
        fingerprint=fingerprint,
        event_key=_key("dd", event_id)
        if event_id
        else _key("dd", fingerprint, cycle, transition, at.isoformat()),
        status=status,
        at=at,
        title=(DD_TITLE_TRANSITION.sub("", title, count=1).strip() or title or fingerprint)[:200],
        labels=labels,
        annotations=annotations,
        level_hint=hint,
        metric=_text(_dd(obj, "metric"), f"{where}.metric", limit=200) or labels.get("metric", ""),
        value=_number(_dd(obj, "value"), f"{where}.value"),
        url=_text(_dd(obj, "link"), f"{where}.link", limit=500),
    )


def parse_datadog(body: object, now: dt.datetime) -> list[ParsedAlert]:
    if isinstance(body, list):
        return [_datadog_one(item, f"[{n}]", now) for n, item in enumerate(_list(body, "The body"))]
    return [_datadog_one(body, "the Datadog message", now)]


# --- generic JSON ----------------------------------------------------------------------------
GENERIC_FIELDS = frozenset(
    {
        "id",
        "dedup_key",
        "status",
        "severity",
        "service",
        "title",
        "metric",
        "value",
        "labels",
        "annotations",
        "at",
        "url",
    }
)


def _generic_one(item: object, where: str, now: dt.datetime) -> ParsedAlert:
    obj = _obj(item, where)
    _only(obj, GENERIC_FIELDS, where)
    dedup = _text(obj.get("dedup_key"), f"{where}.dedup_key", limit=200, required=True)
    status = _text(obj.get("status", "firing"), f"{where}.status", limit=10)
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved'.")
    labels = _str_map(obj.get("labels"), f"{where}.labels")
    service = _text(obj.get("service"), f"{where}.service", limit=100)
    if service:
        labels["service"] = service
    at = _iso(obj.get("at"), f"{where}.at", now) or now
    event_id = _text(obj.get("id"), f"{where}.id", limit=64)
    title = _text(obj.get("title"), f"{where}.title", limit=200, required=True)
    return ParsedAlert(
        fingerprint=dedup,
        event_key=_key("gen", event_id) if event_id else _key("gen", dedup, status, at),
        status=status,
        at=at,
        title=title,
        labels=labels,
        annotations=_str_map(obj.get("annotations"), f"{where}.annotations"),
        level_hint=_level(_text(obj.get("severity"), f"{where}.severity", limit=20)),
        metric=_text(obj.get("metric"), f"{where}.metric", limit=200),
        value=_number(obj.get("value"), f"{where}.value"),
        url=_text(obj.get("url"), f"{where}.url", limit=500),
    )


def parse_generic(body: object, now: dt.datetime) -> list[ParsedAlert]:
    if isinstance(body, dict) and "alerts" in body:
        _only(body, frozenset({"alerts"}), "the message")
        items = _list(body["alerts"], "alerts")
        return [_generic_one(item, f"alerts[{n}]", now) for n, item in enumerate(items)]
    return [_generic_one(body, "the alert", now)]


PARSERS: dict[str, Callable[[object, dt.datetime], list[ParsedAlert]]] = {
    "alertmanager": parse_alertmanager,
    "datadog": parse_datadog,
    "generic": parse_generic,
}
