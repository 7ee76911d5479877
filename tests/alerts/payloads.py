"""Webhook bodies in the vendors' own formats (Alertmanager v4; Datadog with the template
documented in alerts/README.md), built from small parts."""

from __future__ import annotations

import datetime as dt
import hashlib

GO_ZERO = "0001-01-01T00:00:00Z"


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def am_alert(
    name: str = "HighErrorRate",
    *,
    service: str = "user-service",
    metric: str = "error_rate_percent",
    value: float | None = 6.2,
    status: str = "firing",
    starts: dt.datetime,
    ends: dt.datetime | None = None,
    severity: str = "critical",
    instance: str = "10.0.3.7:8080",
    fingerprint: str | None = None,
) -> dict:
    labels = {
        "alertname": name,
        "service": service,
        "metric": metric,
        "severity": severity,
        "instance": instance,
        "namespace": "production",
    }
    annotations = {"summary": f"{name} on {service}", "runbook_url": "https://runbooks/6.2"}
    if value is not None:
        annotations["value"] = str(value)
    fp = fingerprint or hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": iso(starts),
        "endsAt": iso(ends) if ends else GO_ZERO,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
        "fingerprint": fp,
    }


def alertmanager(*alerts: dict, truncated: int = 0) -> dict:
    firing = any(a["status"] == "firing" for a in alerts)
    common = {
        k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)
    }
    return {
        "version": "4",
        "groupKey": "{}:{alertname=" + f'"{alerts[0]["labels"]["alertname"]}"' + "}",
        "truncatedAlerts": truncated,
        "status": "firing" if firing else "resolved",
        "receiver": "nexusops",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def datadog(
    *,
    transition: str = "Triggered",
    aggregation_key: str = "a1b2c3d4e5f6",
    cycle_key: str = "7000000000000000001",
    event_id: str = "7000000000000000100",
    tags: str = "env:production,service:billing-service,team:payments",
    metric: str = "cpu_usage_percent",
    value: float | str | None = 75.0,
    date_posix: int,
    alert_type: str = "error",
) -> dict:
    return {
        "id": event_id,
        "alert_id": "123456",
        "aggregation_key": aggregation_key,
        "cycle_key": cycle_key,
        "transition": transition,
        "alert_type": alert_type,
        "priority": "normal",
        "title": f"[{transition}] CPU high on billing-service",
        "body": "%%%\nCPU above threshold\n%%%",
        "metric": metric,
        "value": "" if value is None else value,
        "scope": "service:billing-service",
        "tags": tags,
        "date": date_posix,
        "link": "https://app.datadoghq.com/event/event?id=7000000000000000100",
        "hostname": "billing-7f9c",
        "org": {"id": "12345", "name": "NEXUS"},
    }
