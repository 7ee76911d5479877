"""On-call pay (runbook 8.3), computed from the rotations, the timeline and a PayPolicy row.

* Stipend: ``weekly_stipend`` per full shift, pro-rated by hours for the part of a shift a
  person held (overrides) or that fell in the month; a shift is a week of wall-clock time, so
  167 or 169 hours across a DST change still earns one full stipend.
* Incident work: from the person's page (an ``escalated`` event naming them) or their first
  own timeline event, to the incident's resolution (or their last own event while unresolved),
  paid at ``incident_multiplier`` × their hourly rate. Attributed to the month it started.
* Flex days: each night (``night_starts``–``night_ends`` in their time zone) their incident
  work touched gives one flex day, the day after that night began.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from incidents.models import Incident, TimelineEvent
from nexusops.common.errors import PermissionDeniedError

from . import schedule
from .models import PayPolicy, Rotation

CENT = Decimal("0.01")
HOUR = Decimal(3600)


def pay_policy() -> PayPolicy:
    policy = PayPolicy.objects.order_by("pk").first()
    return policy or PayPolicy(name="default")


def night_time_zone() -> str:
    """Where "night" is counted, for pay and for the reports alike: the on-call rotation's
    time zone (the first active one), so a page at 23:30 in Los Angeles is a night page
    whatever the hour in UTC."""
    rotation = Rotation.objects.filter(active=True).order_by("pk").first()
    return rotation.time_zone if rotation else "UTC"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hours(delta: dt.timedelta) -> Decimal:
    return Decimal(int(delta.total_seconds())) / HOUR


@dataclass
class IncidentWork:
    incident: Incident
    starts_at: dt.datetime
    ends_at: dt.datetime
    hours: Decimal
    pay: Decimal
    nights: list[dt.date]


@dataclass
class PersonPay:
    user: AbstractBaseUser
    rate: Decimal = Decimal("0")
    oncall_hours: Decimal = Decimal("0")
    stipend: Decimal = Decimal("0")
    incident_hours: Decimal = Decimal("0")
    incident_pay: Decimal = Decimal("0")
    flex_days: list[dt.date] = field(default_factory=list)
    shifts: list[schedule.Shift] = field(default_factory=list)
    work: list[IncidentWork] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return money(self.stipend + self.incident_pay)


@dataclass
class PayReport:
    month: dt.date
    policy: PayPolicy
    people: list[PersonPay]

    @property
    def total(self) -> Decimal:
        return money(sum((p.total for p in self.people), Decimal("0")))


def month_bounds(month: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(tz)
    first = dt.datetime.combine(month.replace(day=1), dt.time(0), tzinfo=zone)
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last = dt.datetime.combine(nxt, dt.time(0), tzinfo=zone)
    return first.astimezone(dt.UTC), last.astimezone(dt.UTC)


def nights_touched(
    start: dt.datetime, end: dt.datetime, tz: str, policy: PayPolicy
) -> list[dt.date]:
    """The flex days earned: for each night [night_starts, night_ends) in ``tz`` that overlaps
    [start, end), the day after the night began."""
    zone = ZoneInfo(tz)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date()
    found = []
    while day <= last:
        n_start = dt.datetime.combine(day, policy.night_starts, tzinfo=zone)
        ends_day = day + dt.timedelta(days=1) if policy.night_ends <= policy.night_starts else day
        n_end = dt.datetime.combine(ends_day, policy.night_ends, tzinfo=zone)
        if n_start < end and start < n_end:
            found.append(day + dt.timedelta(days=1))
        day += dt.timedelta(days=1)
    return found


def _stipends(report: dict[int, PersonPay], month: dt.date, policy: PayPolicy) -> None:
    for rotation in Rotation.objects.all():
        start, end = month_bounds(month, rotation.time_zone)
        for shift in schedule.shifts(rotation, start, end):
            whole = hours(
                schedule.handoff_at(rotation, shift.index + 1)
                - schedule.handoff_at(rotation, shift.index)
            )
            held = hours(shift.ends_at - shift.starts_at)
            person = _person(report, shift.user)
            person.oncall_hours += held
            person.stipend += policy.weekly_stipend * held / whole
            person.shifts.append(shift)


def _person(report: dict[int, PersonPay], user: AbstractBaseUser) -> PersonPay:
    if user.pk not in report:
        profile = getattr(user, "profile", None)
        rate = profile.hourly_rate if profile else Decimal("0")
        report[user.pk] = PersonPay(user=user, rate=Decimal(rate))
    return report[user.pk]


def _incident_work(
    report: dict[int, PersonPay], start: dt.datetime, end: dt.datetime, policy: PayPolicy
) -> None:
    """Per (person, incident): first page or own event, and last own event."""
    spans: dict[tuple[int, int], list[dt.datetime]] = {}
    events = TimelineEvent.objects.filter(
        created_at__gte=start - dt.timedelta(days=31), created_at__lt=end
    ).values_list("incident_id", "actor_id", "kind", "data", "created_at")
    for incident_id, actor_id, kind, data, at in events.iterator():
        people = set(data.get("paged") or []) if kind == "escalated" else set()
        if actor_id:
            people.add(actor_id)
        for pk in people:
            span = spans.setdefault((pk, incident_id), [at, at])
            span[0], span[1] = min(span[0], at), max(span[1], at)
    if not spans:
        return
    User = get_user_model()
    users = User.objects.select_related("profile").in_bulk({pk for pk, _ in spans})
    zone = night_time_zone()
    incidents = Incident.objects.select_related("severity").in_bulk({i for _, i in spans})
    for (pk, incident_id), (first, last) in spans.items():
        if not start <= first < end or pk not in users:
            continue
        incident = incidents[incident_id]
        stop = (
            incident.resolved_at if incident.resolved_at and incident.resolved_at > first else last
        )
        if stop <= first:
            continue
        person = _person(report, users[pk])
        worked = hours(stop - first)
        nights = nights_touched(first, stop, zone, policy)
        pay = money(worked * person.rate * policy.incident_multiplier)
        person.work.append(IncidentWork(incident, first, stop, worked, pay, nights))
        person.incident_hours += worked
        person.incident_pay += pay
        person.flex_days = sorted(set(person.flex_days) | set(nights))


def pay_report(*, month: dt.date, actor: AbstractBaseUser | None) -> PayReport:
    """Manager only (``oncall.view_pay_report``)."""
    if actor is not None and not actor.has_perm("oncall.view_pay_report"):
        raise PermissionDeniedError("Only a manager can see the on-call pay report.")
    policy = pay_policy()
    month = month.replace(day=1)
    people: dict[int, PersonPay] = {}
    _stipends(people, month, policy)
    start, end = month_bounds(month, "UTC")
    _incident_work(people, start, end, policy)
    for person in people.values():
        person.stipend = money(person.stipend)
        person.incident_pay = money(person.incident_pay)
    rows = sorted(people.values(), key=lambda p: p.user.get_username())
    return PayReport(month=month, policy=policy, people=rows)
