"""Due moments stored as rows (DESIGN.md rule 4), and the sweep that fires them.

``timers_sweep`` (Celery beat, every few seconds) fires what is due. What a timer of a kind
does is in the ``TIMERS`` table of the app that owns the kind (its ``handlers.py``, see
``events``)::

    TIMERS = {"escalation": fire_escalation_timer}   # fn(timer, incident, now)

The handler runs inside the firing's transaction with the subject (the incident, if any) and
the timer locked and the timer already marked fired; it sees the committed state and
re-checks that the subject still wants it. A handler that raises rolls back alone.

Batches: one transaction claims up to ``TIMERS_SWEEP_BATCH`` due timers (default 25) of as
many different subjects, marks them fired in one statement and runs their handlers one after
the other, with no savepoint each. If a handler raises (or the batch's held rows cannot all
be written as new), the whole batch rolls back and the sweep fires that batch's timers again
one per transaction, each handler in its own savepoint (as above), so only the failing one
backs off. A batch holds at most one timer per subject,
so every handler still finds its subject's other timers as they were committed; timers with
no subject fire one per transaction. What a handler reads that no firing changes (a policy,
who is on call) it may read once per run with ``sweep_memo``; what it reads about its own
subject, once per batch for all the batch's subjects with ``batch_read``. The rows handlers
of a kind marked ``batch_writes`` append are written once per batch, set-wise
(``held_rows``; PostgreSQL only); the table marks it::

    TIMERS = {"escalation": batch_writes(fire_escalation_timer)}

Lock order (DESIGN.md rule 11), the same everywhere: **the subject first, then its timers.**
Services lock the incident (``incidents.services.common.lock``) before they create, move or
cancel its timers. The sweep picks due timer ids without locking anything, then per batch, in
one transaction: locks the subjects with ``SKIP LOCKED`` (someone is changing one, so this
run leaves it alone rather than queue behind a person), then the timers of the subjects it
got with ``SKIP LOCKED`` and the due filter again (fired, cancelled, moved or taken by
another sweeper since: nothing to do), and only then calls the handlers. Lock waits inside
handlers are bounded (``TIMERS_LOCK_TIMEOUT_MS``, below PostgreSQL's 1 s deadlock check), so
should a handler still wait in a cycle with a person, the sweep gives way and retries on its
next run, without counting an attempt; the person's action wins.

Failures: a kind no installed app handles in this process (an older worker during a rolling
deploy) is not taken: it stays due for a process that knows it, and is logged once. A handler
that raises backs off exponentially (``attempts``, ``next_attempt_at``, ``last_error``) and
after ``TIMER_MAX_ATTEMPTS`` stops (``dead_at``) and publishes ``TimerDied``, so the app that
owns the subject shows it; ``timer_requeue`` makes it due again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, models, router, transaction

from nexusops.common import clock, logs
from nexusops.common.errors import Conflict, NotFoundError

from . import events
from .held_rows import HeldRows, RowTaken, held_rows, holds_rows
from .models import Timer
from .outbox import dispatch_together, remembering_writes
from .sweep_rows import (
    batches,
    bound_lock_waits,
    contention,
    due,
    lock_subject_if_free,
    lock_subjects_if_free,
    log_unknown_kinds,
    subject_model,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimerDied(events.Event):
    """A timer's handler failed ``attempts`` times and the sweep stopped trying; ``subject``
    is its locked incident (or ``None``). The app that owns the subject says so where people
    look."""

    timer: Timer
    subject: models.Model | None


class Outcome(Enum):
    FIRED = "fired"
    GONE = "gone"  # fired, cancelled, moved or taken by another sweeper since it was picked
    BUSY = "busy"  # its subject (or a row its handler needs) is held: the next run tries
    FAILED = "failed"  # the handler raised: backed off, or dead after too many attempts


_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("timers_sweep_memo", default=None)
# The batch being fired: its subjects' ids, and what ``batch_read`` read for them.
_batch: ContextVar[tuple[list[Any], dict[Hashable, Mapping[Any, Any]]] | None] = ContextVar(
    "timers_batch", default=None
)
T = TypeVar("T")


def sweep_memo(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``timers_sweep`` run for ``key``, then the same value; outside a
    sweep, ``compute()`` every time.

    For what handlers read and no firing writes, the same for every timer of a run (an
    escalation policy's tiers, who is on call): read once per run instead of once per timer.
    Never across runs, so a change a person makes is seen by the next sweep; and never for
    anything a handler writes. Name keys after their app (``("escalation.tier", pk)``).
    """
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def batch_read(key: Hashable, pk: Any, read: Callable[[list[Any]], Mapping[Any, T]]) -> T | None:
    """``read(pks).get(pk)``, where inside a batch of the sweep ``pks`` are all the batch's
    subjects and ``read`` runs once per batch for ``key``; elsewhere ``pks`` is ``[pk]``.

    For what each firing reads about its own subject and no firing of the batch changes for
    another (a batch holds one timer per subject, each subject locked): one query for the
    batch instead of one per firing. The answer is as of the batch's first read, so what a
    firing has written itself it finds in memory first (``outbox.written_here``).
    """
    batch = _batch.get()
    if batch is None or pk not in batch[0]:
        return read([pk]).get(pk)
    subjects, reads = batch
    if key not in reads:
        reads[key] = read(subjects)
    return reads[key].get(pk)


@contextmanager
def _batch_scope(subjects: list[Any]) -> Iterator[None]:
    token = _batch.set((subjects, {}))
    try:
        yield
    finally:
        _batch.reset(token)


@contextmanager
def _memo_scope() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def batch_size() -> int:
    return max(1, int(getattr(settings, "TIMERS_SWEEP_BATCH", 25)))


def max_attempts() -> int:
    return getattr(settings, "TIMER_MAX_ATTEMPTS", 8)


def retry_backoff(attempts: int) -> dt.timedelta:
    """After the n-th failure: base · 2^(n-1), at most ``TIMER_BACKOFF_MAX_SECONDS``.

    No jitter: a timer is one row handled by one sweeper at a time, not a burst of calls to
    one vendor, and a deterministic delay is what the admin shows as "next attempt".
    """
    base = getattr(settings, "TIMER_BACKOFF_BASE_SECONDS", 5.0)
    ceiling = getattr(settings, "TIMER_BACKOFF_MAX_SECONDS", 900.0)
    return dt.timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


def timers_cancel(incident: object, *kinds: str) -> None:
    """Cancel the subject's pending timers of these kinds (the caller holds its lock)."""
    Timer.objects.filter(
        incident=incident, kind__in=kinds, fired_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=clock.now())


def _known_kinds() -> set[str]:
    return {kind for table in events.tables() for kind in table.timers}


def timers_sweep(*, limit: int = 500, page: int = 50) -> int:
    """Fire every due timer this process has a handler for; returns how many fired.

    Safe to run in several processes at once and beside people's actions: see the lock order
    in the module docstring. Each timer is visited at most once per run (whatever became of
    it), so a busy subject or a failing handler never makes a run spin.
    """
    fired = 0
    visited: set[int] = set()
    kinds = _known_kinds()
    size = batch_size()
    with _memo_scope():
        while fired < limit:
            # Read without locks: which timers to try, soonest first. Each is re-checked under
            # its locks, so a stale row here costs a query, never a wrong firing.
            picked = list(
                Timer.objects.filter(due(clock.now()), kind__in=kinds)
                .exclude(pk__in=visited)
                .order_by("due_at", "id")
                .values_list("pk", "incident_id")[:page]
            )
            if not picked:
                break
            for batch in batches(picked, min(size, limit - fired)):
                visited.update(pk for pk, _ in batch)
                # The batch's messages go to the broker together, after its commit.
                with dispatch_together():
                    fired += _sweep_batch(batch, clock.now(), kinds)
                if fired >= limit:
                    break
    log_unknown_kinds(clock.now(), kinds)
    return fired


def timers_sweep_backlog(*, limit: int = 500) -> int:
    """``timers_sweep`` again and again while each run fires its whole ``limit`` (a backlog),
    for at most ``TIMERS_SWEEP_MAX_SECONDS`` (default 60); returns how many fired. Each run
    visits a timer at most once, and a run that fires less than its limit ends it, so busy
    subjects and failing timers never make it spin."""
    until = time.monotonic() + float(getattr(settings, "TIMERS_SWEEP_MAX_SECONDS", 60))
    total = 0
    while True:
        fired = timers_sweep(limit=limit)
        total += fired
        if fired < limit or time.monotonic() >= until:
            return total


class _HandlerRaised(Exception):
    """A handler of a batch raised: the batch is rolled back and fired one by one."""


def _sweep_batch(batch: list[tuple[int, int | None]], now: dt.datetime, kinds: set[str]) -> int:
    """Fire a batch in one transaction; returns how many fired."""
    if len(batch) == 1:
        return _sweep_each(batch, now, kinds)
    try:
        return _fire_batch(batch, now, kinds)
    except _HandlerRaised as exc:
        logger.info("a timer batch rolled back (%s); firing it one by one", exc.__cause__)
    except DatabaseError as exc:  # the batch's own locking or bookkeeping
        if not contention(exc):
            logger.exception("a timer batch could not be fired; firing it one by one")
    return _sweep_each(batch, now, kinds)


def _sweep_each(batch: list[tuple[int, int | None]], now: dt.datetime, kinds: set[str]) -> int:
    """Fire the batch's timers one per transaction; returns how many fired."""
    fired = 0
    for pk, subject_id in batch:
        with logs.bound():  # one timer's subject is named in its own lines only
            fired += _sweep_one(pk, subject_id, now, kinds) is Outcome.FIRED
    return fired


def _fire_batch(batch: list[tuple[int, int | None]], now: dt.datetime, kinds: set[str]) -> int:
    expected = dict(batch)
    with transaction.atomic():
        bound_lock_waits()
        subjects = {s.pk: s for s in lock_subjects_if_free(list(expected.values()))}
        if not subjects:
            return 0  # all busy: the next run tries them
        # The timer rows as locked are the ones fired: nothing is read again.
        timers = [
            timer
            for timer in Timer.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due(now), kind__in=kinds)
            .filter(pk__in=[pk for pk, sid in batch if sid in subjects])
            .order_by("due_at", "id")
            if timer.incident_id == expected[timer.pk]
            and events.timer_handler(timer.kind) is not None
        ]
        if not timers:
            return 0
        Timer.objects.filter(pk__in=[t.pk for t in timers]).update(fired_at=now)
        held = _holder(timers)
        fired = 0
        with _batch_scope([t.incident_id for t in timers]):
            for timer in timers:
                timer.fired_at = now
                handler = events.timer_handler(timer.kind)
                subject = subjects[timer.incident_id]
                # Structured logs name an incident by its human number where there is one.
                with (
                    logs.bound(incident=getattr(subject, "number", None)),
                    remembering_writes(),
                    held_rows(held if holds_rows(handler) else None),
                ):
                    try:
                        handler(timer, subject, now)
                    except Exception as exc:
                        raise _HandlerRaised(f"timer {timer.pk} ({timer.kind})") from exc
                # A handler that found the timer no longer wanted un-fires it (and moves or
                # cancels it); that is not a firing.
                fired += bool(timer.fired_at)
        if held is not None:
            try:
                held.write()  # the batch's appended rows, one statement per table
            except RowTaken as exc:
                raise _HandlerRaised("a held row was not new") from exc
        return fired


def _holder(timers: list[Timer]) -> HeldRows | None:
    """Where the batch's handlers marked ``batch_writes`` append (``held_rows``), or
    ``None`` if none is marked or the database has no sequences to take ids from."""
    using = router.db_for_write(Timer)
    if connections[using].vendor != "postgresql":
        return None
    if not any(holds_rows(events.timer_handler(t.kind)) for t in timers):
        return None
    return HeldRows(using, expected=len(timers))


def _sweep_one(pk: int, subject_id: int | None, now: dt.datetime, kinds: set[str]) -> Outcome:
    """Lock subject, then timer; re-check; fire. Every outcome is committed or rolled back
    here, so one timer never holds up the others."""
    try:
        with transaction.atomic():
            bound_lock_waits()
            subject = None
            if subject_id is not None:
                subject = lock_subject_if_free(subject_id)
                if subject is None:
                    return Outcome.BUSY
                # Structured logs name an incident by its human number where there is one.
                logs.bind(incident=getattr(subject, "number", None))
            timer = (
                Timer.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(due(now), pk=pk, kind__in=kinds)
                .first()
            )
            if timer is None or timer.incident_id != subject_id:
                return Outcome.GONE
            handler = events.timer_handler(timer.kind)
            if handler is None:  # the tables changed since the run began (tests do that)
                return Outcome.GONE
            try:
                with transaction.atomic(), remembering_writes():
                    timer.fired_at = now
                    timer.save(update_fields=["fired_at"])
                    handler(timer, subject, now)
            except Exception as exc:  # noqa: BLE001 - a failing handler must not stop the sweep
                timer.fired_at = None
                if contention(exc):
                    logger.info("timer %s (%s): rows busy, retried next run", pk, timer.kind)
                    return Outcome.BUSY
                logger.exception("timer %s (%s) failed", pk, timer.kind)
                _record_failure(timer, subject, now, exc)
                return Outcome.FAILED
            # A handler that found the timer no longer wanted un-fires it (and moves or
            # cancels it); that is not a firing.
            return Outcome.FIRED if timer.fired_at else Outcome.GONE
    except DatabaseError as exc:
        # Only the bookkeeping itself can land here (the handler ran in its own savepoint).
        if not contention(exc):
            logger.exception("timer %s: could not record its firing", pk)
        return Outcome.BUSY


def _record_failure(
    timer: Timer, subject: models.Model | None, now: dt.datetime, exc: Exception
) -> None:
    """Count the failed attempt, back off, and after the last one stop and say so."""
    timer.attempts += 1
    timer.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if timer.attempts >= max_attempts():
        timer.dead_at, timer.next_attempt_at = now, None
    else:
        timer.next_attempt_at = now + retry_backoff(timer.attempts)
    timer.save(update_fields=["attempts", "last_error", "next_attempt_at", "dead_at"])
    if timer.dead_at is not None:
        logger.error(
            "timer %s (%s) stopped after %s attempts", timer.pk, timer.kind, timer.attempts
        )
        events.publish(TimerDied(timer=timer, subject=subject))


def timer_requeue(*, timer_id: int) -> tuple[Timer, int]:
    """Make a dead timer due again with its attempts reset; returns it and the attempts it
    had. In the caller's transaction; subject first, then the timer (the lock order)."""
    row = Timer.objects.filter(pk=timer_id).values_list("incident_id").first()
    if row is None:
        raise NotFoundError("No such timer.")
    if row[0] is not None:
        subject_model().objects.select_for_update(of=("self",)).filter(pk=row[0]).first()
    timer = Timer.objects.select_for_update().get(pk=timer_id)
    if not timer.dead:
        state = "fired" if timer.fired_at else "cancelled" if timer.cancelled_at else "live"
        raise Conflict(
            f"Only a timer that stopped after failing can be retried; this one is {state}.",
            code="not_dead",
        )
    attempts = timer.attempts
    timer.dead_at = timer.next_attempt_at = None
    timer.attempts = 0
    timer.save(update_fields=["dead_at", "next_attempt_at", "attempts"])
    return timer, attempts
