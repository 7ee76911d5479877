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


# Datadog's own default payload (Integrations › Webhooks, "Payload" left as it is): every value
# is a $VARIABLE rendered as a string; $DATE is epoch milliseconds. No transition and no
# aggregation key: the event title carries the transition.
def datadog_default(*, title: str, date_ms: int, event_id: str = "7188000000000000001") -> dict:
    return {
        "body": "%%%\nerror rate is 7.3% on api-gateway\n\n@webhook-nexusops\n%%%",
        "last_updated": str(date_ms),
        "event_type": "query_alert_monitor",
        "title": title,
        "date": str(date_ms),
        "org": {"id": "123456", "name": "NEXUS"},
        "id": event_id,
    }


# A typical custom template: each documented variable under its own name in lower case,
# including ones the console has no use for ($ALERT_QUERY, $USER, $SNAPSHOT, $EMAIL...).
def datadog_custom(
    *, transition: str, date_ms: int, event_id: str, tags: str, alert_type: str = "error"
) -> dict:
    return {
        "event_title": f"[{transition}] High error rate on api-gateway",
        "alert_transition": transition,
        "alert_id": "98765432",
        "aggreg_key": "9bd4ac313a4d1e8fae2482df7b77628",
        "alert_cycle_key": "7188000000000000000",
        "priority": "normal",
        "alert_priority": "P1",
        "tags": tags,
        "link": "https://app.datadoghq.com/event/event?id=" + event_id,
        "alert_status": "trace.http.request.errors over service:api-gateway was > 5.0 "
        "on average during the last 5m.",
        "alert_type": alert_type,
        "alert_query": "avg(last_5m):sum:trace.http.request.errors{service:api-gateway} > 5",
        "alert_metric": "trace.http.request.errors",
        "alert_scope": "service:api-gateway",
        "alert_title": "High error rate on api-gateway",
        "event_msg": "Error rate above 5% @webhook-nexusops",
        "event_type": "query_alert_monitor",
        "date": str(date_ms),
        "last_updated": str(date_ms),
        "id": event_id,
        "hostname": "api-gateway-7f9c6d5b8-x2x9q",
        "email": "",
        "user": "",
        "username": "",
        "snapshot": "https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_1/2026-11-26/a.png",
        "text_only_msg": "Error rate above 5%",
        "org": {"id": "123456", "name": "NEXUS"},
        "security_rule_name": "$SECURITY_RULE_NAME",
    }
