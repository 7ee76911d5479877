"""Maintenance windows (runbook 7), driven by Timer rows fired by the beat sweep.

* ``maintenance_generate``: the first Sunday of each month, 02:00-04:00 UTC, for the next
  months; a ``maintenance_generate`` timer re-arms itself on the 1st of every month.
* each window has timers: notice (7 days before; status page and subscribers, once),
  start (to in progress) and end (completed, or overran: an incident is declared).
* emergency windows name the CTO or VP Engineering who must approve them and aim for 4 hours'
  notice (less is allowed, and said on the window). The named approver approves in the
  console (never the requester); until then the window suppresses nothing and is not
  announced. Requests, approvals and cancellations are ``MaintenanceEvent`` rows (the audit).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from incidents.models import Channel, Incident, Profile, Service
from incidents.services.common import resolve_services
from nexusops.common import clock
from nexusops.common.errors import (
    ApplicationError,
    Conflict,
    PermissionDeniedError,
)
from nexusops.common.services import actor_name, lock_row
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue

from ..models import Deployment, MaintenanceEvent, MaintenanceWindow, Status
from .common import invalid, require

Window = MaintenanceWindow
NOTICE, START, END, GENERATE = (
    "maintenance_notice",
    "maintenance_start",
    "maintenance_end",
    "maintenance_generate",
)
NOTICE_AHEAD = dt.timedelta(days=7)
EMERGENCY_NOTICE = dt.timedelta(hours=4)
STATUSPAGE_TARGET = "statuspage.maintenance_create"
EMAIL_TARGET = "email.maintenance_notice"
EMAIL_ALL_TARGET = "email.maintenance_notice.subscribers"
APPROVER_ROLES = (Profile.OrgRole.CTO, Profile.OrgRole.VP_ENGINEERING)


def first_sunday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(calendar.SUNDAY - first.weekday()) % 7)


def monthly_slot(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """02:00-04:00 UTC on the first Sunday (UTC, so daylight saving never moves it)."""
    day = first_sunday(year, month)
    start = dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC)
    return start, start + dt.timedelta(hours=2)


def _months(start: dt.date, count: int) -> Iterable[tuple[int, int]]:
    year, month = start.year, start.month
    for _ in range(count):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _overlapping(starts_at, ends_at, services: list[Service], exclude: int | None = None):  # noqa: ANN001, ANN202
    qs = Window.objects.filter(
        starts_at__lt=ends_at, ends_at__gt=starts_at,
        status__in=[Window.Status.SCHEDULED, Window.Status.IN_PROGRESS],
    )  # fmt: skip
    if exclude:
        qs = qs.exclude(pk=exclude)
    if services:
        # a window without services covers them all
        qs = qs.filter(Q(services__in=services) | Q(services__isnull=True)).distinct()
    return qs


def _schedule_timers(window: MaintenanceWindow) -> None:
    now = clock.now()
    data = {"window": window.pk}
    notice_at = window.starts_at - NOTICE_AHEAD
    Timer.objects.create(kind=NOTICE, due_at=max(notice_at, now), data=data)
    Timer.objects.create(kind=START, due_at=window.starts_at, data=data)
    Timer.objects.create(kind=END, due_at=window.ends_at, data=data)


def maintenance_generate(*, months: int | None = None) -> list[MaintenanceWindow]:
    """Make the monthly windows for this month and the next ones (idempotent)."""
    months = months or int(getattr(settings, "MAINTENANCE_GENERATE_MONTHS", 3))
    now = clock.now()
    made = []
    for year, month in _months(now.astimezone(dt.UTC).date(), months):
        starts_at, ends_at = monthly_slot(year, month)
        if ends_at <= now or Window.objects.filter(generated=True, starts_at=starts_at).exists():
            continue
        if _overlapping(starts_at, ends_at, []).exists():
            continue  # an emergency window already holds that slot
        try:
            with transaction.atomic():
                window = Window.objects.create(
                    title=f"Monthly maintenance {starts_at:%B %Y}", starts_at=starts_at,
                    ends_at=ends_at, generated=True, created_at=now,
                    public_note="Scheduled system updates and database maintenance. Short "
                    "interruptions are possible.",
                )  # fmt: skip
                _schedule_timers(window)
        except IntegrityError:
            continue  # another process made it
        made.append(window)
    _arm_generator(now)
    return made


def _arm_generator(now: dt.datetime) -> None:
    pending = Timer.objects.filter(kind=GENERATE, fired_at=None, cancelled_at=None)
    if pending.exists():
        return
    today = now.astimezone(dt.UTC).date()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    Timer.objects.create(kind=GENERATE, due_at=dt.datetime(year, month, 1, tzinfo=dt.UTC))


@transaction.atomic
def maintenance_emergency_create(
    *,
    actor: User,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    services: Iterable[str | Service],
    approver: User | None,
    approval_note: str = "",
    public_note: str = "",
) -> MaintenanceWindow:
    """Request an emergency window; it waits for ``approver`` to approve it
    (:func:`maintenance_emergency_approve`) and suppresses nothing until then."""
    require(actor, "schedule_maintenance")
    title = " ".join((title or "").split())
    if not title or len(title) > 120:
        raise invalid("title", "A title of 1 to 120 characters is required.")
    service_rows = resolve_services(services, required=True)
    if approver is None:
        raise invalid("approver", "Emergency maintenance needs the approval of the CTO or VP "
                      "Engineering (runbook 7): name who is to approve it.")  # fmt: skip
    if approver.pk == actor.pk:
        raise invalid("approver", "You cannot approve your own request: name the other of "
                      "the CTO and VP Engineering.")  # fmt: skip
    role = getattr(getattr(approver, "profile", None), "org_role", "")
    if role not in APPROVER_ROLES:
        raise invalid("approver", f"{actor_name(approver)} is not the CTO or VP "
                      "Engineering; only they approve emergency maintenance.")  # fmt: skip
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None or value.tzinfo is None:
            raise invalid(name, f"{name} needs a date, a time and a time zone.")
    if ends_at <= starts_at:
        raise invalid("ends_at", "A window ends after it starts.")
    if ends_at <= clock.now():
        raise invalid("ends_at", "That window is already over.")
    clash = _overlapping(starts_at, ends_at, service_rows).first()
    if clash is not None:
        raise Conflict(f"It overlaps {clash} for the same service(s).", code="overlap",
                       fields={"starts_at": [f"Overlaps {clash}."]})  # fmt: skip
    now = clock.now()
    window = Window.objects.create(
        title=title, kind=Window.Kind.EMERGENCY, starts_at=starts_at, ends_at=ends_at,
        public_note=public_note.strip(), approver=approver,
        approval_note=approval_note.strip()[:300], created_by=actor, created_at=now,
    )  # fmt: skip
    window.services.set(service_rows)
    # The notice timer fires at once (inside 7 days) but waits for the approval to announce.
    _schedule_timers(window)
    _audit(window, MaintenanceEvent.Kind.REQUESTED, actor,
           f"{actor_name(actor)} requested emergency maintenance; waiting for "
           f"{actor_name(approver)} to approve it.")  # fmt: skip
    return window


def _audit(window: MaintenanceWindow, kind: str, actor: User | None, message: str,
           channel: str = Channel.WEB) -> MaintenanceEvent:  # fmt: skip
    return MaintenanceEvent.objects.create(
        window=window, kind=kind, actor=actor, channel=channel, message=message[:500],
        created_at=clock.now(),
    )  # fmt: skip


@transaction.atomic
def maintenance_emergency_approve(
    *,
    window: MaintenanceWindow | int,
    actor: User,
    note: str = "",
    channel: str = Channel.WEB,
) -> MaintenanceWindow:
    """The named approver approves an emergency window: from now on it downgrades alerts for
    its services and is announced (the notice goes out now if it is already due)."""
    window = _locked(window)
    if window.kind != Window.Kind.EMERGENCY:
        raise ApplicationError("Only emergency windows need an approval.")
    if window.approved_at is not None:
        return window  # a second click, or Slack's retry: already done
    if not window.active:
        raise Conflict(f"{window} is {window.get_status_display().lower()}.")
    if window.created_by_id is not None and window.created_by_id == actor.pk:
        raise PermissionDeniedError("You requested this window; you cannot approve it.")
    if window.approver_id != actor.pk:
        raise PermissionDeniedError(f"Only {actor_name(window.approver)} can approve this window.")
    role = getattr(getattr(actor, "profile", None), "org_role", "")
    if role not in APPROVER_ROLES:
        raise PermissionDeniedError("Only the CTO or VP Engineering approve emergency maintenance.")
    window.approved_by, window.approved_at = actor, clock.now()
    if note.strip():
        window.approval_note = note.strip()[:300]
    window.save(update_fields=["approved_by", "approved_at", "approval_note"])
    _audit(window, MaintenanceEvent.Kind.APPROVED, actor,
           f"{actor_name(actor)} approved the emergency window"
           + (f": {note.strip()[:300]}" if note.strip() else "."), channel)  # fmt: skip
    if window.notice_sent_at is None and window.starts_at - NOTICE_AHEAD <= clock.now():
        maintenance_notify(window=window)
    return window


def short_notice(window: MaintenanceWindow) -> bool:
    return window.kind == Window.Kind.EMERGENCY and (
        window.starts_at - window.created_at < EMERGENCY_NOTICE
    )


def _window(timer: Timer) -> MaintenanceWindow | None:
    window_id = (timer.data or {}).get("window")
    if window_id is None:
        return None
    return Window.objects.select_for_update().filter(pk=window_id).first()


def notice_due(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    window = _window(timer)
    if window is None or not window.active or window.notice_sent_at is not None:
        return
    if window.awaiting_approval:
        return  # announced when approved (maintenance_emergency_approve)
    maintenance_notify(window=window)


def maintenance_notify(*, window: MaintenanceWindow) -> bool:
    """Status page and every active subscriber, once per window (keys make it at most once).

    The subscribers get one fan-out row; a worker writes one e-mail row each
    (``maintenance:<window>:notice:<subscriber>``). Returns whether the e-mails are queued.
    """
    window.notice_sent_at = clock.now()
    window.save(update_fields=["notice_sent_at"])
    outbox_enqueue(target=STATUSPAGE_TARGET, key=f"maintenance:{window.pk}:statuspage",
                   payload={"window": window.pk})  # fmt: skip
    return outbox_enqueue(
        target=EMAIL_ALL_TARGET, key=f"maintenance:{window.pk}:notice",
        payload={"window": window.pk},
    ).queued  # fmt: skip


def window_started(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    window = _window(timer)
    if window is None or window.status != Window.Status.SCHEDULED:
        return
    window.status = Window.Status.IN_PROGRESS
    window.save(update_fields=["status"])


def _work_open(window: MaintenanceWindow) -> bool:
    if window.work_open:
        return True
    deployments = Deployment.objects.filter(
        status__in=[Status.PENDING, Status.IN_PROGRESS],
        started_at__gte=window.starts_at, started_at__lt=window.ends_at,
    )  # fmt: skip
    services = list(window.services.all())
    if services:
        deployments = deployments.filter(services__in=services)
    return deployments.exists()


def window_ended(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    window = _window(timer)
    if window is None or window.status not in (Window.Status.SCHEDULED, Window.Status.IN_PROGRESS):
        return
    if not _work_open(window):
        window.status = Window.Status.COMPLETED
        window.save(update_fields=["status"])
        return
    from incidents.services import incident_declare

    slugs = [s.slug for s in window.services.all()]
    opened = incident_declare(
        title=f"Maintenance window overran: {window.title}"[:120],
        severity=getattr(settings, "MAINTENANCE_OVERRUN_SEVERITY", "P2"), actor=None,
        services=slugs, channel=Channel.SYSTEM,
        summary=f"{window} was due to end at {window.ends_at:%H:%M} UTC and work is still "
        "open (a deployment in progress, or the window marked as still working).",
    )  # fmt: skip
    window.status, window.overrun_incident = Window.Status.OVERRAN, opened
    window.save(update_fields=["status", "overrun_incident"])


def windows_generate_due(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    maintenance_generate()


def _locked(window: MaintenanceWindow | int) -> MaintenanceWindow:
    return lock_row(Window.objects.all(), window, "No such maintenance window.")


@transaction.atomic
def maintenance_work_set(
    *, window: MaintenanceWindow | int, actor: User, open: bool
) -> MaintenanceWindow:
    """Say work is still going on (the window overruns if it still is at its end) or done."""
    require(actor, "schedule_maintenance")
    window = _locked(window)
    if not window.active:
        raise Conflict(f"{window} is {window.get_status_display().lower()}.")
    window.work_open = open
    window.save(update_fields=["work_open"])
    return window


@transaction.atomic
def maintenance_cancel(*, window: MaintenanceWindow | int, actor: User) -> MaintenanceWindow:
    require(actor, "schedule_maintenance")
    window = _locked(window)
    if window.status != Window.Status.SCHEDULED:
        raise ApplicationError("Only a window that has not started can be cancelled.")
    window.status = Window.Status.CANCELLED
    window.save(update_fields=["status"])
    _audit(window, MaintenanceEvent.Kind.CANCELLED, actor,
           f"{actor_name(actor)} cancelled the window.")  # fmt: skip
    Timer.objects.filter(
        kind__in=[NOTICE, START, END], data__window=window.pk, fired_at=None, cancelled_at=None
    ).update(cancelled_at=clock.now())
    return window
