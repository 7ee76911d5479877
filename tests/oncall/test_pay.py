import datetime as dt
from decimal import Decimal

import pytest

from incidents.services import incident_transition
from nexusops.common import clock, roles
from nexusops.common.errors import PermissionDeniedError
from nexusops.engine.timers import timers_sweep
from oncall import pay
from oncall.models import PayPolicy, Rotation, RotationMember
from oncall.services import override_create, override_decide
from tests.factories import UserFactory, incident

from .conftest import person, runbook_policy

UTC = dt.UTC


@pytest.fixture
def month(db):
    """Ana and Ben alternate weekly from Fri 2 Jan 2026; Cy covers Ben 10-12 Feb (48 h)."""
    PayPolicy.objects.create(name="default")
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    ana = person("ana", role=roles.RESPONDER, pd="PANA")
    ben = person("ben", role=roles.RESPONDER, pd="PBEN")
    cy = person("cy")
    for p in (ana, ben, cy):
        p.profile.hourly_rate = Decimal("80.00")
        p.profile.save()
    for i, u in enumerate((ana, ben)):
        RotationMember.objects.create(rotation=rotation, user=u, position=i)
    manager = UserFactory(username="maya", role=roles.MANAGER)
    asked = override_create(
        rotation=rotation,
        user=cy,
        starts_at=dt.datetime(2026, 2, 10, 17, 0, tzinfo=UTC),
        ends_at=dt.datetime(2026, 2, 12, 17, 0, tzinfo=UTC),
        actor=manager,
    )
    override_decide(override=asked, actor=ana, approve=True)
    return {"ana": ana, "ben": ben, "cy": cy, "manager": manager}


def by_name(report):
    return {p.user.username: p for p in report.people}


def test_full_weeks_and_a_partial_week_from_an_override(month):
    report = by_name(pay.pay_report(month=dt.date(2026, 2, 1), actor=month["manager"]))
    # Ana: 129 h (1 Feb 00:00 → 6 Feb 09:00 PST) + 168 h + 39 h (27 Feb 09:00 → 1 Mar) = 2 weeks
    assert report["ana"].oncall_hours == 336 and report["ana"].stipend == Decimal("1000.00")
    # Ben: two full weeks less Cy's 48 h: 1000 - 500 * 48 / 168 = 857.142857...
    assert report["ben"].oncall_hours == 288 and report["ben"].stipend == Decimal("857.14")
    assert report["cy"].oncall_hours == 48 and report["cy"].stipend == Decimal("142.86")


def test_a_week_across_dst_is_one_full_stipend(month):
    report = by_name(pay.pay_report(month=dt.date(2026, 3, 1), actor=month["manager"]))
    # Ben holds 6-13 Mar (167 h, DST starts) and 20-27 Mar (168 h).
    assert report["ben"].oncall_hours == 335 and report["ben"].stipend == Decimal("1000.00")


def test_overnight_incident_pays_time_and_a_half_and_a_flex_day(month, settings, pagerduty):
    settings.PAGERDUTY_SERVICE_ID = "PSVC001"  # Ben's page is really enqueued: pay from it
    runbook_policy()
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    paged = dt.datetime(2026, 2, 10, 5, 30, tzinfo=UTC)  # Mon 9 Feb 21:30 PST, Ben on call
    with clock.frozen(paged) as t:
        inc = incident(severity_code="P2", actor=ic)
        timers_sweep()
        t.advance(minutes=20)
        incident_transition(incident=inc, action="acknowledge", actor=month["ben"])
        incident_transition(incident=inc, action="investigate", actor=ic)
        t.set(paged + dt.timedelta(hours=2, minutes=30))  # 00:00 PST
        incident_transition(incident=inc, action="resolve", actor=ic)
    ben = by_name(pay.pay_report(month=dt.date(2026, 2, 1), actor=month["manager"]))["ben"]
    [work] = ben.work
    assert work.incident == inc and work.hours == Decimal("2.5")
    assert ben.incident_pay == Decimal("300.00")  # 2.5 h × 80 × 1.5
    assert ben.flex_days == [dt.date(2026, 2, 10)]
    assert ben.total == Decimal("1157.14")


def test_night_window_is_local_and_daytime_work_earns_no_flex_day():
    policy = PayPolicy(name="x")
    day = pay.nights_touched(
        dt.datetime(2026, 7, 1, 17, tzinfo=UTC),
        dt.datetime(2026, 7, 1, 22, tzinfo=UTC),
        "America/Los_Angeles",
        policy,
    )
    assert day == []
    night = pay.nights_touched(
        dt.datetime(2026, 7, 1, 12, tzinfo=UTC),
        dt.datetime(2026, 7, 1, 14, tzinfo=UTC),
        "America/Los_Angeles",
        policy,  # 05:00-07:00 PDT
    )
    assert night == [dt.date(2026, 7, 1)]


def test_figures_are_rows_a_manager_changes(month):
    PayPolicy.objects.filter(name="default").update(weekly_stipend=Decimal("700"))
    report = by_name(pay.pay_report(month=dt.date(2026, 2, 1), actor=month["manager"]))
    assert report["ana"].stipend == Decimal("1400.00")


def test_manager_only(month):
    with pytest.raises(PermissionDeniedError):
        pay.pay_report(month=dt.date(2026, 2, 1), actor=month["ana"])


def test_manager_downloads_the_csv_others_are_refused(month, client):
    client.force_login(month["manager"])
    response = client.get("/oncall/pay.csv?month=2026-02")
    assert response.status_code == 200
    assert "oncall-pay-2026-02.csv" in response["Content-Disposition"]
    body = response.content.decode()
    assert "stipend,ben,,,,288.00,857.14,,USD" in body
    page = client.get("/oncall/pay/?month=2026-02").content.decode()
    assert "857.14" in page and "1000.00" in page
    client.force_login(month["ana"])
    assert client.get("/oncall/pay.csv?month=2026-02").status_code == 403


def test_calendar_shows_friday_0900_pacific_handoffs(month, client):
    client.force_login(month["ana"])
    page = client.get("/oncall/calendar/?view=month&date=2026-03-01").content.decode()
    assert 'data-handoff="2026-03-06T09:00:00-08:00"' in page
    assert 'data-handoff="2026-03-13T09:00:00-07:00"' in page
