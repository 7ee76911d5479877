"""The managers' reports, aggregated in the database (one grouped query per table).

Every table is a :class:`Table` (columns and rows of plain values) built by one function in
``TABLES`` from a :class:`Window`; the dashboard shows them with a chart, the CSV view exports
one. Time buckets are UTC days and months; "night" is the pay policy's night in the on-call
rotation's time zone, as on the pay report. To add a table, write ``def _x(w: Window) -> Table``
and list it in ``TABLES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMonth, TruncTime
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.common.services import actor_name
from oncall.pay import night_time_zone, pay_policy
from postmortems.models import ActionItem, PostMortem

from .drills_table import dr_drills_table

MAX_DAYS = 3 * 366
TTA = ExpressionWrapper(F("acknowledged_at") - F("detected_at"), output_field=DurationField())
TTR = ExpressionWrapper(F("resolved_at") - F("detected_at"), output_field=DurationField())


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date  # inclusive
    now: dt.datetime
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def lo(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(0), tzinfo=dt.UTC)

    @property
    def hi(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)

    def incidents(self) -> QuerySet[Incident]:
        return Incident.objects.filter(detected_at__gte=self.lo, detected_at__lt=self.hi)


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: tuple[int, ...] = (1,)  # which columns the chart draws against column 0
    unit: str = ""


def report_window(*, start: str | dt.date | None, end: str | dt.date | None) -> Window:
    """Parse and check a date range (``YYYY-MM-DD``); the default is the last 90 days."""
    now = clock.now()
    today = now.astimezone(dt.UTC).date()
    errors: dict[str, list[str]] = {}

    def parse(raw, name: str, default: dt.date) -> dt.date | None:  # noqa: ANN001
        if raw in (None, ""):
            return default
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            errors[name] = [f"{raw!r} is not a date (YYYY-MM-DD)."]
            return None

    lo = parse(start, "start", today - dt.timedelta(days=89))
    hi = parse(end, "end", today)
    if lo and hi and lo > hi:
        errors["end"] = [f"The range ends ({hi}) before it starts ({lo})."]
    elif lo and hi and (hi - lo).days >= MAX_DAYS:
        errors["end"] = [f"Choose at most {MAX_DAYS} days."]
    if errors or lo is None or hi is None:  # parse() says why when it gives None
        raise ApplicationError("That date range is not possible.", fields=errors)
    return Window(lo, hi, now)


def minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def percent(met: int, eligible: int) -> float | None:
    return None if not eligible else round(100 * met / eligible, 1)


def _times(rows, label: Callable) -> list[list]:  # noqa: ANN001
    return [[label(r), r["n"], minutes(r["mtta"]), minutes(r["mttr"])] for r in rows]


def _severity_rows(w: Window) -> list[dict]:
    """One grouped scan for both the severity table and the SLA table (memoised per window)."""
    if "severity" in w.memo:
        return w.memo["severity"]
    ack_due = ExpressionWrapper(
        F("detected_at") + F("severity__response_time"), output_field=DateTimeField()
    )
    update_due = ExpressionWrapper(
        F("detected_at") + F("severity__first_update_within"), output_field=DateTimeField()
    )
    pm_due = F("postmortem__due_at")
    rows = list(
        w.incidents()
        .annotate(ack_due=ack_due, update_due=update_due)
        .values("severity__code", "severity__rank")
        .annotate(
            n=Count("pk"),
            mtta=Avg(TTA),
            mttr=Avg(TTR),
            ack_met=Count("pk", filter=Q(acknowledged_at__lte=F("ack_due"))),
            ack_all=Count("pk", filter=Q(acknowledged_at__isnull=False) | Q(ack_due__lt=w.now)),
            upd_met=Count("pk", filter=Q(first_update_at__lte=F("update_due"))),
            upd_all=Count(
                "pk",
                filter=Q(severity__first_update_within__isnull=False)
                & (Q(first_update_at__isnull=False) | Q(update_due__lt=w.now)),
            ),
            pm_met=Count(
                "pk",
                filter=Q(postmortem__required=True, postmortem__meeting_scheduled_at__lte=pm_due),
            ),
            pm_all=Count(
                "pk",
                filter=Q(postmortem__required=True)
                & (
                    Q(postmortem__meeting_scheduled_at__isnull=False)
                    | Q(postmortem__due_at__lt=w.now)
                ),
            ),
        )
        .order_by("severity__rank")
    )
    w.memo["severity"] = rows
    return rows


def _by_severity(w: Window) -> Table:
    return Table(
        "by_severity",
        "MTTA and MTTR by severity",
        ["severity", "incidents", "MTTA (min)", "MTTR (min)"],
        _times(_severity_rows(w), lambda r: r["severity__code"]),
        chart=(2, 3),
        unit="min",
    )


def _by_month(w: Window) -> Table:
    rows = (
        w.incidents()
        .annotate(month=TruncMonth("detected_at"))
        .values("month")
        .annotate(n=Count("pk"), mtta=Avg(TTA), mttr=Avg(TTR))
        .order_by("month")
    )
    return Table(
        "by_month",
        "MTTA and MTTR by month",
        ["month", "incidents", "MTTA (min)", "MTTR (min)"],
        _times(rows, lambda r: r["month"].strftime("%Y-%m")),
        chart=(2, 3),
        unit="min",
    )


def _sla(w: Window) -> Table:
    totals = {k: 0 for k in ("ack_met", "ack_all", "upd_met", "upd_all", "pm_met", "pm_all")}
    for row in _severity_rows(w):  # at most one row per severity
        for k in totals:
            totals[k] += row[k]
    agg = totals
    pm = {"met": totals["pm_met"], "all": totals["pm_all"]}
    rows: list[tuple[str, int, int]] = [
        ("Acknowledged within the response time", agg["ack_met"], agg["ack_all"]),
        ("First update within its deadline (15 min)", agg["upd_met"], agg["upd_all"]),
        ("Post-mortem scheduled within 48 hours", pm["met"], pm["all"]),
    ]
    return Table(
        "sla",
        "SLA compliance",
        ["SLA", "met", "due", "compliance (%)"],
        [[*r, percent(r[1], r[2])] for r in rows],
        chart=(3,),
        unit="%",
    )


def _by_service(w: Window) -> Table:
    rows = (
        Incident.services.through.objects.filter(
            incident__detected_at__gte=w.lo, incident__detected_at__lt=w.hi
        )
        .values("service__slug")
        .annotate(n=Count("incident_id"))
        .order_by("-n", "service__slug")
    )
    return Table(
        "by_service",
        "Incidents by service",
        ["service", "incidents"],
        [[r["service__slug"], r["n"]] for r in rows],
    )


def _escalations(w: Window) -> Table:
    rows = (
        TimelineEvent.objects.filter(kind="escalated", created_at__gte=w.lo, created_at__lt=w.hi)
        .annotate(
            tier=Coalesce(KeyTextTransform("tier", "data"), Value("?"), output_field=CharField())
        )
        .values("tier")
        .annotate(n=Count("pk"))
        .order_by("tier")
    )
    return Table(
        "escalations",
        "Escalations by tier",
        ["tier", "escalations"],
        [[f"tier {r['tier']}", r["n"]] for r in rows],
    )


def _overdue(w: Window) -> Table:
    today = w.now.astimezone(dt.UTC).date()
    pms = PostMortem.objects.filter(meeting_scheduled_at__isnull=True, due_at__lte=w.now).count()
    items = ActionItem.objects.filter(
        status__in=ActionItem.OPEN_STATUSES, due_date__lt=today
    ).count()
    return Table(
        "overdue",
        "Overdue now",
        ["what", "overdue"],
        [["Post-mortems not scheduled", pms], ["Open action items past due", items]],
    )


def _on_call(w: Window) -> Table:
    tz, policy = night_time_zone(), pay_policy()
    starts, ends = policy.night_starts, policy.night_ends

    def load_of(prefix: str) -> dict:
        end = Coalesce(f"{prefix}resolved_at", Value(w.now, output_field=DateTimeField()))
        spent = ExpressionWrapper(end - F(f"{prefix}detected_at"), output_field=DurationField())
        local = TruncTime(f"{prefix}detected_at", tzinfo=ZoneInfo(tz))
        after: GreaterThanOrEqual = GreaterThanOrEqual(local, starts)
        before: LessThan = LessThan(local, ends)
        # A night that spans midnight (22:00-06:00) is after its start OR before its end.
        whens = [When(after, then=1), When(before, then=1)] if ends <= starts else []
        night = Case(*whens, default=0) if whens else Case(When(after & before, then=1), default=0)
        return {"pages": Count("pk"), "night": Sum(night), "time": Sum(spent)}

    load: dict[int, list] = {}
    led = (
        w.incidents()
        .filter(commander__isnull=False)
        .values("commander")
        .annotate(**load_of(""))
        .order_by()
    )
    for r in led:
        load[r["commander"]] = [r["pages"], r["night"], r["time"]]
    # Responders who were not also the commander (each incident counts once per person).
    helped = (
        Incident.responders.through.objects.filter(
            incident__detected_at__gte=w.lo, incident__detected_at__lt=w.hi
        )
        .exclude(incident__commander_id=F("user_id"))
        .values("user_id")
        .annotate(**load_of("incident__"))
        .order_by()
    )
    for r in helped:
        pages, night, time = load.get(r["user_id"], [0, 0, dt.timedelta()])
        load[r["user_id"]] = [pages + r["pages"], night + r["night"], time + r["time"]]
    users = get_user_model().objects.in_bulk(list(load))
    rows = [
        [
            actor_name(users[pk]),
            pages,
            night,
            round(time.total_seconds() / 3600, 1),
        ]
        for pk, (pages, night, time) in load.items()
    ]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return Table(
        "on_call",
        "On-call load per person",
        ["person", "pages", f"night pages ({starts:%H:%M}-{ends:%H:%M} {tz})", "incident hours"],
        rows,
        chart=(1, 2),
    )


def _dr_drills(w: Window) -> Table:
    return dr_drills_table(w, Table)


TABLES: dict[str, Callable[[Window], Table]] = {
    "by_severity": _by_severity,
    "by_month": _by_month,
    "sla": _sla,
    "by_service": _by_service,
    "escalations": _escalations,
    "overdue": _overdue,
    "on_call": _on_call,
    "dr_drills": _dr_drills,
}


def report_table(*, window: Window, key: str) -> Table:
    if key not in TABLES:
        raise ApplicationError(f"No report table {key!r}.", code="not_found", status=404)
    with timezone.override(dt.UTC):
        return TABLES[key](window)


def report_all(*, window: Window) -> list[Table]:
    with timezone.override(dt.UTC):
        return [build(window) for build in TABLES.values()]
