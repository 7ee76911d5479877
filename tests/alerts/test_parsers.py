import datetime as dt

import pytest

from alerts.services.parsers import (
    PayloadError,
    decode,
    parse_alertmanager,
    parse_datadog,
    parse_generic,
)

from .conftest import T0
from .payloads import alertmanager, am_alert, datadog, datadog_custom, datadog_default


def test_alertmanager_grouped_firing_merges_common_labels_and_reads_the_value():
    body = alertmanager(
        am_alert(starts=T0, instance="a:1", value=6.2),
        am_alert(starts=T0, instance="b:1", value=5.5),
    )
    body["commonLabels"]["team"] = "identity"
    first, second = parse_alertmanager(body, T0)
    assert first.status == "firing" and first.at == T0
    assert first.labels["team"] == "identity" and first.labels["service"] == "user-service"
    assert first.metric == "error_rate_percent" and first.value == 6.2
    assert first.level_hint == "critical" and first.fingerprint != second.fingerprint
    assert first.event_key != second.event_key


def test_alertmanager_resolved_uses_ends_at_and_the_same_fingerprint():
    firing = am_alert(starts=T0)
    resolved = am_alert(starts=T0, ends=T0 + dt.timedelta(minutes=5), status="resolved")
    [f] = parse_alertmanager(alertmanager(firing), T0)
    [r] = parse_alertmanager(alertmanager(resolved), T0 + dt.timedelta(minutes=6))
    assert r.status == "resolved" and r.at == T0 + dt.timedelta(minutes=5)
    assert r.fingerprint == f.fingerprint and r.event_key != f.event_key


def test_alertmanager_truncated_and_ungrouped_without_fingerprint_is_accepted():
    alert = am_alert(starts=T0)
    del alert["fingerprint"]
    body = alertmanager(alert, truncated=12)
    [parsed] = parse_alertmanager(body, T0)
    assert len(parsed.fingerprint) == 32


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda b: b.update(version="3"), "version"),
        (lambda b: b.update(extra=1), "Unknown field"),
        (lambda b: b["alerts"][0].update(colour="red"), "Unknown field"),
        (lambda b: b["alerts"][0].update(startsAt="1970-01-01T00:00:00Z"), "plausible"),
        (lambda b: b["alerts"][0].update(startsAt="2999-01-01T00:00:00Z"), "plausible"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "RFC 3339"),
        (lambda b: b["alerts"][0].update(startsAt="2026-11-26T09:00:00"), "time zone"),
        (lambda b: b["alerts"][0].update(status="pending"), "firing"),
        (lambda b: b["alerts"][0]["labels"].update(x="a\x00b"), "NUL"),
        (lambda b: b["alerts"][0]["annotations"].update(value="NaN"), "finite"),
        (lambda b: b["alerts"][0]["labels"].update(x=["list"]), "string"),
        (lambda b: b.update(alerts=[]), "empty"),
        (lambda b: b.update(truncatedAlerts=-1), "truncatedAlerts"),
    ],
)
def test_alertmanager_bad_input_names_the_problem(change, words):
    body = alertmanager(am_alert(starts=T0))
    change(body)
    with pytest.raises(PayloadError) as exc:
        parse_alertmanager(body, T0)
    assert words in exc.value.message


def test_resolved_alertmanager_alert_needs_ends_at():
    body = alertmanager(am_alert(starts=T0, status="resolved"))
    with pytest.raises(PayloadError, match="endsAt"):
        parse_alertmanager(body, T0)


def test_datadog_triggered_warn_and_recovered():
    posix = int(T0.timestamp())
    [trig] = parse_datadog(datadog(date_posix=posix), T0)
    assert trig.status == "firing" and trig.fingerprint == "a1b2c3d4e5f6"
    assert trig.labels == {"env": "production", "service": "billing-service", "team": "payments"}
    assert trig.value == 75.0 and trig.metric == "cpu_usage_percent" and trig.at == T0
    [warn] = parse_datadog(datadog(transition="Warn", date_posix=posix, event_id="2"), T0)
    assert warn.level_hint == "warning"
    [rec] = parse_datadog(
        datadog(transition="Recovered", date_posix=posix * 1000, event_id="3"), T0
    )
    assert rec.status == "resolved" and rec.at == T0 and rec.fingerprint == trig.fingerprint


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda b: b.update(aggregation_key="", alert_id="", title=""), "AGGREG_KEY"),
        (lambda b: b.update(transition="Exploded"), "ALERT_TRANSITION"),
        (lambda b: b.update(date="soon"), "number"),
        (lambda b: b.update(date=10), "plausible"),
        (lambda b: b.update(value="1e999"), "finite"),
    ],
)
def test_datadog_bad_input(change, words):
    body = datadog(date_posix=int(T0.timestamp()))
    change(body)
    with pytest.raises(PayloadError) as exc:
        parse_datadog(body, T0)
    assert words in exc.value.message


def test_datadog_fields_it_does_not_use_are_ignored_not_refused():
    # Datadog does not retry a 4xx: refusing an unknown field would lose the alert.
    body = datadog(date_posix=int(T0.timestamp()))
    body.update(surprise=True, alert_query="avg(last_5m):cpu > 70", snapshot="https://x/a.png")
    [parsed] = parse_datadog(body, T0)
    assert parsed.fingerprint == "a1b2c3d4e5f6" and parsed.status == "firing"


def test_datadog_default_payload_is_understood_from_its_title():
    ms = int(T0.timestamp() * 1000)
    [fired] = parse_datadog(
        datadog_default(title="[Triggered on {service:api-gateway}] High error rate", date_ms=ms),
        T0,
    )
    [back] = parse_datadog(
        datadog_default(
            title="[Recovered on {service:api-gateway}] High error rate",
            date_ms=ms,
            event_id="7188000000000000002",
        ),
        T0,
    )
    assert fired.status == "firing" and back.status == "resolved"
    assert fired.at == T0 and fired.title == "High error rate"
    assert fired.fingerprint == back.fingerprint and fired.event_key != back.event_key
    assert fired.annotations["event_type"] == "query_alert_monitor"


def test_datadog_custom_template_with_the_variables_own_names():
    ms = int(T0.timestamp() * 1000)
    tags = "env:production,service:api-gateway,monitor"
    [fired] = parse_datadog(
        datadog_custom(transition="Triggered", date_ms=ms, event_id="1", tags=tags), T0
    )
    assert fired.status == "firing" and fired.level_hint == "critical"
    assert fired.fingerprint == "9bd4ac313a4d1e8fae2482df7b77628"
    assert fired.labels == {"env": "production", "service": "api-gateway", "monitor": ""}
    assert fired.metric == "trace.http.request.errors"
    assert fired.annotations["priority"] == "normal" and fired.annotations["alert_id"] == "98765432"
    assert "was > 5.0" in fired.annotations["status"]
    [warn] = parse_datadog(
        datadog_custom(
            transition="Warn", date_ms=ms, event_id="2", tags=tags, alert_type="warning"
        ),
        T0,
    )
    assert warn.level_hint == "warning"
    [back] = parse_datadog(
        datadog_custom(
            transition="Recovered", date_ms=ms, event_id="3", tags=tags, alert_type="success"
        ),
        T0,
    )
    assert back.status == "resolved" and back.fingerprint == fired.fingerprint


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda b: b.update(title="x" * 5000), "limit"),
        (lambda b: b.update(title=["a list"]), "string"),
        (lambda b: b.update(title="No transition here"), "ALERT_TRANSITION"),
        (lambda b: b.update(date="99"), "plausible"),
    ],
)
def test_datadog_default_payload_keeps_its_limits(change, words):
    body = datadog_default(title="[Triggered] CPU high", date_ms=int(T0.timestamp() * 1000))
    change(body)
    with pytest.raises(PayloadError) as exc:
        parse_datadog(body, T0)
    assert words in exc.value.message


def test_generic_single_and_list():
    one = {
        "dedup_key": "db-conn",
        "title": "DB connections",
        "service": "user-service",
        "metric": "db_connections_percent",
        "value": 93,
        "severity": "critical",
    }
    [parsed] = parse_generic(one, T0)
    assert parsed.labels["service"] == "user-service" and parsed.value == 93.0
    assert parsed.at == T0 and parsed.status == "firing"
    assert len(parse_generic({"alerts": [one, {**one, "dedup_key": "x"}]}, T0)) == 2
    with pytest.raises(PayloadError, match="title"):
        parse_generic({"dedup_key": "x"}, T0)


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 100000, "not valid JSON"),
        (b'{"a": NaN}', "not a number"),
    ],
)
def test_decode_refuses_what_is_not_json(raw, words):
    with pytest.raises(PayloadError) as exc:
        decode(raw)
    assert words in exc.value.message
