"""The DR drill's rules (runbook 4.4): schedule, start, evidence, steps, completion, timers.

Lock order (DESIGN.md rule 11): the drill first, then its steps and timers. Timers are engine
``Timer`` rows with ``data["drill"]`` (and ``data["step"]``); their handlers re-check the
drill's state after locking it. Every message is an outbox row (``drills.email``).
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction

from nexusops.common import clock, roles
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_enqueue, register_sender

from .models import Drill, DrillEvidence, DrillPolicy, DrillStep, DrillTemplateStep, StepMark

EMAIL = "drills.email"
REMINDER, DUE, STEP_DUE, RTO = "drill_reminder", "drill_due", "drill_step_due", "drill_rto"
KINDS = (REMINDER, DUE, STEP_DUE, RTO)
RUN = "drills.run_drill"
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TEXT = 5000


def policy() -> DrillPolicy:
    return DrillPolicy.objects.order_by("pk").first() or DrillPolicy.objects.create()


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _need(actor: User, what: str) -> None:
    if not actor.has_perm(RUN):
        raise ApplicationError(f"Your role cannot {what}.", code="forbidden", status=403)


def _lock(drill: Drill | int) -> Drill:
    return Drill.objects.select_for_update().get(pk=drill if isinstance(drill, int) else drill.pk)


def _timer(kind: str, due_at: dt.datetime, drill: Drill, **data: int) -> None:
    Timer.objects.create(kind=kind, due_at=due_at, data={"drill": drill.pk, **data})


def _cancel(drill: Drill, *kinds: str, step: DrillStep | None = None) -> None:
    """Cancel the drill's pending timers; one the sweep holds is skipped (it re-checks)."""
    found = Timer.objects.select_for_update(skip_locked=True).filter(
        kind__in=kinds, data__drill=drill.pk, fired_at__isnull=True, cancelled_at__isnull=True
    )
    if step is not None:
        found = found.filter(data__step=step.pk)
    Timer.objects.filter(pk__in=list(found.values_list("pk", flat=True))).update(
        cancelled_at=clock.now()
    )


def _tell(drill: Drill, key: str, subject: str, body: str, *people: User | None) -> None:
    """E-mail the managers, the policy's address and ``people``, through the outbox."""
    managers = User.objects.filter(groups__name=roles.MANAGER, is_active=True)
    to = {u.email for u in [*managers, *(p for p in people if p)] if u.email}
    if policy().notify_email:
        to.add(policy().notify_email)
    if to:
        outbox_enqueue(
            target=EMAIL,
            key=f"drill{drill.pk}:{key}",
            payload={"to": sorted(to), "subject": f"[DR drill] {subject}", "body": body},
        )


def _minutes(delta: dt.timedelta | None) -> str:
    return "–" if delta is None else f"{delta.total_seconds() / 60:.1f} min"


# --- schedule and start ---------------------------------------------------------------------


@transaction.atomic
def drill_schedule(*, scheduled_for: dt.datetime, actor: User | None = None) -> Drill:
    """A planned drill, with its reminder and its due moment as timers."""
    if actor is not None:
        _need(actor, "schedule DR drills")
    if scheduled_for.tzinfo is None:
        raise ApplicationError("The drill's date needs a time zone.", fields={"when": ["No zone."]})
    now = clock.now()
    if actor is not None and scheduled_for <= now:
        raise ApplicationError("Schedule a drill in the future.", fields={"when": ["In the past."]})
    rules = policy()
    drill = Drill.objects.create(
        scheduled_for=scheduled_for, rto_minutes=rules.rto_minutes, rpo_minutes=rules.rpo_minutes
    )
    remind_at = scheduled_for - dt.timedelta(days=rules.reminder_days)
    if remind_at > now:
        _timer(REMINDER, remind_at, drill)
    _timer(DUE, max(scheduled_for, now), drill)
    return drill


def drill_next_planned(*, after: dt.datetime) -> Drill:
    """The next quarterly drill (``every_months`` after ``after``) unless one is planned."""
    planned = Drill.objects.filter(state=Drill.State.PLANNED, scheduled_for__gt=clock.now())
    return planned.order_by("scheduled_for").first() or drill_schedule(
        scheduled_for=add_months(after, policy().every_months)
    )


@transaction.atomic
def drill_start(*, drill: Drill, actor: User, failure_at: dt.datetime | None = None) -> Drill:
    _need(actor, "start a DR drill")
    drill = _lock(drill)
    if drill.state != Drill.State.PLANNED:
        raise Conflict(f"This drill is {drill.get_state_display().lower()}, not planned.")
    now = clock.now()
    failure_at = failure_at or now
    if failure_at > now or failure_at < now - dt.timedelta(hours=24):
        raise ApplicationError(
            "The simulated failure (T0) must be within the last 24 hours.",
            fields={"failure_at": ["Not within the last 24 hours."]},
        )
    template = list(DrillTemplateStep.objects.order_by("order"))
    if not template:
        raise ApplicationError("There are no drill steps: seed or add them in the admin.")
    drill.state, drill.started_at, drill.started_by = Drill.State.RUNNING, now, actor
    drill.failure_at = failure_at
    drill.save()
    due = now
    for row in template:
        due += dt.timedelta(minutes=row.expected_minutes)
        step = DrillStep.objects.create(
            drill=drill,
            order=row.order,
            title=row.title,
            owner_role=row.owner_role,
            owner=actor,
            expected_minutes=row.expected_minutes,
            marks=row.marks,
            due_at=due,
        )
        _timer(STEP_DUE, due, drill, step=step.pk)
    _timer(RTO, failure_at + dt.timedelta(minutes=drill.rto_minutes), drill)
    _cancel(drill, REMINDER, DUE)
    _tell(
        drill,
        "started",
        f"{drill.title} started",
        f"{actor.get_full_name() or actor.username} started {drill.title} ({drill.scenario}) "
        f"at {now:%Y-%m-%d %H:%M} UTC; T0 {failure_at:%H:%M} UTC. RTO {drill.rto_minutes} "
        f"min, RPO {drill.rpo_minutes} min.",
    )
    return drill


# --- steps ----------------------------------------------------------------------------------


def _running_step(step: DrillStep) -> tuple[Drill, DrillStep]:
    drill = _lock(step.drill_id)
    step = DrillStep.objects.select_for_update().get(pk=step.pk)
    if drill.state != Drill.State.RUNNING:
        raise Conflict(f"This drill is {drill.get_state_display().lower()}, not running.")
    return drill, step


@transaction.atomic
def drill_step_assign(*, step: DrillStep, owner: User, actor: User) -> DrillStep:
    _need(actor, "assign drill steps")
    _drill, step = _running_step(step)
    if not owner.is_active:
        raise ApplicationError(f"{owner.username} is not an active user.")
    step.owner = owner
    step.save(update_fields=["owner"])
    return step


@transaction.atomic
def drill_evidence_add(
    *,
    step: DrillStep,
    actor: User,
    kind: str,
    text: str = "",
    url: str = "",
    file_name: str = "",
    content_type: str = "",
    content: bytes | None = None,
) -> DrillEvidence:
    """Text, a link (http/https) or a file (at most 2 MB) as evidence of a step."""
    _need(actor, "add drill evidence")
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    if kind == DrillEvidence.Kind.TEXT and not 1 <= len(text) <= MAX_TEXT:
        errors["text"] = [f"Write the evidence (1 to {MAX_TEXT} characters)."]
    elif kind == DrillEvidence.Kind.LINK:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = ["Give an http(s) link."]
    elif kind == DrillEvidence.Kind.FILE:
        if not content or not file_name:
            errors["file"] = ["Choose a file."]
        elif len(content) > MAX_FILE_BYTES:
            errors["file"] = [f"A file is at most {MAX_FILE_BYTES // 1024 // 1024} MB."]
    elif kind not in DrillEvidence.Kind.values:
        errors["kind"] = ["Evidence is text, a link or a file."]
    if len(text) > MAX_TEXT:
        errors["text"] = [f"At most {MAX_TEXT} characters."]
    if errors:
        raise ApplicationError("The evidence is not valid.", fields=errors)
    _drill, step = _running_step(step)
    return DrillEvidence.objects.create(
        step=step,
        kind=kind,
        text=text,
        url=url if kind == "link" else "",
        file_name=file_name[:200] if kind == "file" else "",
        content_type=content_type[:100] if kind == "file" else "",
        content=content if kind == "file" and content else b"",
        added_by=actor,
        added_at=clock.now(),
    )


@transaction.atomic
def drill_step_complete(
    *, step: DrillStep, actor: User, recovery_point: dt.datetime | None = None
) -> DrillStep:
    _need(actor, "complete drill steps")
    drill, step = _running_step(step)
    if step.completed_at is not None:
        raise Conflict("This step is already complete.")
    if not step.evidence.exists():
        raise ApplicationError("Attach evidence to the step before completing it.")
    now = clock.now()
    if step.marks == StepMark.RECOVERY_POINT:
        if recovery_point is None or recovery_point.tzinfo is None:
            raise ApplicationError(
                "Give the time of the newest data restored (the recovery point).",
                fields={"recovery_point": ["Required, with a zone."]},
            )
        if recovery_point > now:
            raise ApplicationError(
                "The recovery point cannot be in the future.",
                fields={"recovery_point": ["In the future."]},
            )
        drill.recovery_point_at = recovery_point
    if step.marks == StepMark.RECOVERED:
        drill.recovered_at = now
        _cancel(drill, RTO)
    drill.save()
    step.completed_at, step.completed_by = now, actor
    step.save(update_fields=["completed_at", "completed_by"])
    _cancel(drill, STEP_DUE, step=step)
    return step


@transaction.atomic
def drill_complete(*, drill: Drill, actor: User) -> Drill:
    """Close the drill with its measured times, and plan the next one."""
    _need(actor, "complete a DR drill")
    drill = _lock(drill)
    if drill.state != Drill.State.RUNNING:
        raise Conflict(f"This drill is {drill.get_state_display().lower()}, not running.")
    open_steps = drill.steps.filter(completed_at__isnull=True).count()
    if open_steps:
        raise ApplicationError(f"{open_steps} steps are not complete yet.")
    if drill.recovered_at is None or drill.recovery_point_at is None:
        raise ApplicationError("The drill has no measured recovery (no step marks it).")
    drill.state, drill.completed_at = Drill.State.COMPLETED, clock.now()
    drill.summary = (
        f"Recovered in {_minutes(drill.recovery_time)} (RTO {drill.rto_minutes} min: "
        f"{'met' if drill.rto_met else 'MISSED'}); data-loss window {_minutes(drill.data_loss)} "
        f"(RPO {drill.rpo_minutes} min: {'met' if drill.rpo_met else 'MISSED'})."
    )
    drill.save()
    _cancel(drill, *KINDS)
    # Quarterly from the planned date, or from today for a drill run long after its date.
    late = drill.scheduled_for < drill.completed_at - dt.timedelta(days=31)
    following = drill_next_planned(after=drill.completed_at if late else drill.scheduled_for)
    _tell(
        drill,
        "completed",
        f"{drill.title}: {'passed' if drill.rto_met and drill.rpo_met else 'FAILED'}",
        f"{drill.summary}\nNext drill: {following.scheduled_for:%Y-%m-%d %H:%M} UTC.",
    )
    return drill


# --- timers (handlers.py) and the sender ------------------------------------------------------


def _timer_drill(timer: Timer) -> Drill | None:
    return Drill.objects.select_for_update().filter(pk=(timer.data or {}).get("drill")).first()


def reminder_due(timer: Timer, incident: object, now: dt.datetime) -> None:
    drill = _timer_drill(timer)
    if drill is not None and drill.state == Drill.State.PLANNED:
        _tell(
            drill,
            f"reminder:{timer.pk}",
            f"{drill.title} on {drill.scheduled_for:%Y-%m-%d}",
            f"{drill.title} ({drill.scenario}) is planned for {drill.scheduled_for:%Y-%m-%d %H:%M} "
            f"UTC. Runbook 4.4: RTO {drill.rto_minutes} min, RPO {drill.rpo_minutes} min.",
        )


def drill_due(timer: Timer, incident: object, now: dt.datetime) -> None:
    drill = _timer_drill(timer)
    if drill is not None and drill.state == Drill.State.PLANNED:
        _tell(
            drill,
            f"due:{timer.pk}",
            f"{drill.title} is due",
            f"{drill.title} was planned for {drill.scheduled_for:%Y-%m-%d %H:%M} UTC and has "
            "not started. Start it from DR drills.",
        )


def step_overdue(timer: Timer, incident: object, now: dt.datetime) -> None:
    drill = _timer_drill(timer)
    step = DrillStep.objects.filter(pk=(timer.data or {}).get("step")).first()
    if drill is None or step is None or drill.state != Drill.State.RUNNING or step.completed_at:
        return
    _tell(
        drill,
        f"step:{step.pk}:overdue",
        f"step {step.order} is overdue",
        f"Step {step.order}, “{step.title}”, was due at {step.due_at:%H:%M} UTC.",
        step.owner,
    )


def rto_passed(timer: Timer, incident: object, now: dt.datetime) -> None:
    drill = _timer_drill(timer)
    if drill is not None and drill.state == Drill.State.RUNNING and drill.recovered_at is None:
        _tell(
            drill,
            "rto",
            f"RTO of {drill.rto_minutes} min passed, not recovered",
            f"{drill.title}: T0 was {drill.failure_at:%H:%M} UTC; the service is not marked "
            "recovered. The drill misses its RTO.",
        )


def send_email(message: OutboxMessage) -> dict:
    payload = message.payload
    send_mail(payload["subject"], payload["body"], settings.DEFAULT_FROM_EMAIL, payload["to"])
    return {"to": payload["to"]}


def register() -> None:
    # may_repeat: SMTP takes no idempotency key, so a crash mid-send may mail it twice.
    register_sender(
        EMAIL, send=send_email, enabled=lambda: True, label="DR drill email", may_repeat=True
    )
