"""MTTA/MTTR and SLA compliance on hand-computed fixtures; date ranges; CSV; charts."""

import datetime as dt

import pytest
from django.urls import reverse

from incidents.models import Incident
from incidents.services import incident_note_add, incident_transition
from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from postmortems.models import PostMortem
from postmortems.services import postmortem_schedule
from reports import selectors as reports
from tests.factories import incident

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 1, 30, 9, 0, tzinfo=dt.UTC)


def _run(at, code, ack_after, resolve_after, ic, update_after=None):  # noqa: ANN001
    """An incident detected at ``at``: acknowledged, updated and resolved after those minutes."""
    with clock.frozen(at) as t:
        inc = incident(severity_code=code, actor=ic, commander=ic)
        t.set(at + dt.timedelta(minutes=ack_after))
        inc = incident_transition(incident=inc, action="acknowledge", actor=ic)
        if update_after is not None:
            t.set(at + dt.timedelta(minutes=update_after))
            incident_note_add(incident=inc, actor=ic, message="We are on it.")
        inc = incident_transition(incident=inc, action="investigate", actor=ic)
        t.set(at + dt.timedelta(minutes=resolve_after))
        return incident_transition(incident=inc, action="resolve", actor=ic)


@pytest.fixture
def history(ic):
    a = _run(T0, "P1", 30, 120, ic, update_after=10)  # ack in SLA (1 h), update in 15 min
    b = _run(T0 + dt.timedelta(days=1), "P1", 90, 300, ic, update_after=20)  # both late
    c = _run(T0 + dt.timedelta(days=3), "P2", 10, 60, ic)  # February; P2 has no update clock
    with clock.frozen(T0 + dt.timedelta(hours=5)):
        postmortem_schedule(
            postmortem=a.postmortem,
            actor=ic,
            meeting_at=T0 + dt.timedelta(days=1),
            attendees=[ic],
        )
    return a, b, c


def _table(key: str, now: dt.datetime) -> reports.Table:
    with clock.frozen(now):
        window = reports.report_window(start="2026-01-01", end="2026-02-28")
        return reports.report_table(window=window, key=key)


def test_mtta_and_mttr_by_severity_and_month(history):
    now = T0 + dt.timedelta(days=10)
    assert _table("by_severity", now).rows == [["P1", 2, 60.0, 210.0], ["P2", 1, 10.0, 60.0]]
    months = _table("by_month", now).rows
    assert months == [["2026-01", 2, 60.0, 210.0], ["2026-02", 1, 10.0, 60.0]]


def test_sla_compliance(history):
    rows = _table("sla", T0 + dt.timedelta(days=10)).rows
    assert rows == [
        ["Acknowledged within the response time", 2, 3, 66.7],
        ["First update within its deadline (15 min)", 1, 2, 50.0],
        # a: scheduled in time; b: required, never scheduled, 48 h passed; c: none.
        ["Post-mortem scheduled within 48 hours", 1, 2, 50.0],
    ]


def test_by_service_on_call_and_overdue(history, ic):
    now = T0 + dt.timedelta(days=10)
    assert _table("by_service", now).rows == [["api-gateway", 3]]
    person = ic.get_full_name() or ic.get_username()
    # 2 + 5 + 1 hours; b was detected at 10:00 UTC, none at night.
    assert _table("on_call", now).rows == [[person, 3, 0, 8.0]]
    assert _table("overdue", now).rows == [
        ["Post-mortems not scheduled", 1],
        ["Open action items past due", 0],
    ]
    assert PostMortem.objects.count() == 2 and Incident.objects.count() == 3


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-01", "2026-02-01", "end"),
        ("yesterday", "2026-02-01", "start"),
        ("2020-01-01", "2026-01-01", "end"),
    ],
)
def test_impossible_ranges_are_refused(start, end, field):
    with pytest.raises(ApplicationError) as err:
        reports.report_window(start=start, end=end)
    assert field in err.value.fields


def test_dashboard_shows_charts_tables_and_exports_csv(history, manager, client):
    client.force_login(manager)
    with clock.frozen(T0 + dt.timedelta(days=10)):
        page = client.get(reverse("report-dashboard"), {"start": "2026-01-01", "end": "2026-02-28"})
        assert page.status_code == 200
        body = page.content.decode()
        assert body.count("<svg") == len(reports.TABLES)
        assert "MTTA and MTTR by severity" in body and "66.7" in body
        csv = client.get(
            reverse("report-csv", args=["by_severity"]),
            {"start": "2026-01-01", "end": "2026-02-28"},
        )
        assert csv["Content-Type"].startswith("text/csv")
        assert csv.content.decode().splitlines() == [
            "severity,incidents,MTTA (min),MTTR (min)",
            "P1,2,60.0,210.0",
            "P2,1,10.0,60.0",
        ]
        bad = client.get(reverse("report-dashboard"), {"start": "2026-03-01", "end": "2026-02-01"})
        assert (
            bad.status_code == 400 and "ends (2026-02-01) before it starts" in bad.content.decode()
        )
        bad_csv = client.get(reverse("report-csv", args=["sla"]), {"start": "x"})
        assert bad_csv.status_code == 400


def test_night_pages_are_counted_in_the_rotations_time_zone_like_pay(ic):
    from oncall.models import PayPolicy, Rotation

    PayPolicy.objects.create(name="default")  # nights 22:00-06:00
    Rotation.objects.create(
        name="Primary", start_date=dt.date(2026, 1, 2), time_zone="America/Los_Angeles"
    )
    _run(dt.datetime(2026, 1, 20, 7, 30, tzinfo=dt.UTC), "P2", 5, 30, ic)  # 23:30 PST: night
    _run(dt.datetime(2026, 1, 21, 23, 0, tzinfo=dt.UTC), "P2", 5, 30, ic)  # 15:00 PST: day
    table = _table("on_call", dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert table.columns[2] == "night pages (22:00-06:00 America/Los_Angeles)"
    [[_, pages, night, _]] = table.rows
    assert (pages, night) == (2, 1)


def test_chart_labels_get_the_room_they_need():
    from reports.charts import CHAR_W, bar_chart

    label = "Acknowledged within the response time"
    svg = str(bar_chart(title="SLA", labels=[label, "P1"], series=[("met", [3, 1])]))
    x = float(svg.split('class="chart-label"')[0].rsplit('x="', 1)[1].split('"')[0])
    # The label is right-aligned at x: it starts at x - its width, which must not be below 0.
    assert x - len(label) * CHAR_W >= 0
    assert f">{label}</text>" in svg
