"""Property tests (hypothesis 6.170.15): no body makes the parsers or the endpoints fail
with anything but a clear 4xx; what is accepted is recorded, what is refused is not."""

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from alerts.models import AlertEvent
from alerts.services.parsers import PARSERS, PayloadError, decode

from .conftest import T0, post
from .payloads import alertmanager, am_alert, datadog

# Hypothesis keeps a cache directory; keep it in var/ (ignored), not in the work tree's root.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / "var" / "hypothesis")
FUZZ = settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
KEYS = [
    "version",
    "alerts",
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "fingerprint",
    "truncatedAlerts",
    "commonLabels",
    "aggregation_key",
    "transition",
    "date",
    "tags",
    "value",
    "dedup_key",
    "title",
    "at",
    "id",
]


def _mutations():
    """Valid vendor bodies with one field replaced by anything."""
    valid = st.sampled_from(
        [
            ("alertmanager", alertmanager(am_alert(starts=T0))),
            ("datadog", datadog(date_posix=int(T0.timestamp()))),
            ("generic", {"dedup_key": "k", "title": "t", "service": "user-service", "value": 3}),
        ]
    )
    return st.tuples(valid, st.sampled_from(KEYS), json_values, st.booleans())


def _mutate(body: dict, key: str, value, inner: bool) -> dict:
    body = json.loads(json.dumps(body))
    if inner and isinstance(body.get("alerts"), list):
        body["alerts"][0][key] = value
    else:
        body[key] = value
    return body


@FUZZ
@given(kind=st.sampled_from(sorted(PARSERS)), body=json_values)
def test_parsers_return_alerts_or_a_payload_error(kind, body):
    try:
        parsed = PARSERS[kind](body, T0)
    except PayloadError as exc:
        assert exc.message and 400 <= exc.status < 500
    else:
        assert parsed and all(p.status in ("firing", "resolved") for p in parsed)


@FUZZ
@given(case=_mutations())
def test_parsers_on_mutated_vendor_bodies(case):
    (kind, body), key, value, inner = case
    try:
        parsed = PARSERS[kind](_mutate(body, key, value, inner), T0)
    except PayloadError:
        return
    for p in parsed:
        json.dumps(p.data(), allow_nan=False)  # storable as jsonb
        assert "\x00" not in json.dumps(p.data())
        assert dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= p.at <= T0 + dt.timedelta(days=1)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_decode_never_raises_anything_else(raw):
    try:
        decode(raw)
    except PayloadError:
        pass


@pytest.mark.django_db
@FUZZ
@given(
    kind=st.sampled_from(sorted(PARSERS)),
    body=st.one_of(st.binary(max_size=200), json_values.map(json.dumps), _mutations()),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
        ]
    ),
)
def test_endpoints_answer_202_or_a_clear_4xx(client, tokens, now, kind, body, content_type):
    if isinstance(body, tuple):
        (kind, valid), key, value, inner = body
        body = json.dumps(_mutate(valid, key, value, inner))
    before = AlertEvent.objects.count()
    response = post(client, kind, body, tokens[kind], content_type=content_type)
    assert response.status_code in (202, 400, 413, 415), response.content
    if response.status_code == 202:
        assert AlertEvent.objects.count() >= before
    else:
        assert response.json()["error"]["message"]
        assert AlertEvent.objects.count() == before
