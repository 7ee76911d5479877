"""How an approved run reaches a worker and how a run whose worker died is noticed.

A run executes in a Celery task of its own on the ``remediation`` queue (not inside an outbox
delivery), under the time limit its action declares: a 60-minute pg_dump is not cut off by the
global soft limit meant for vendor calls. The run row is its own outbox: it is written QUEUED
in the transaction that approved it, dispatched after commit, and re-dispatched by
:func:`action_runs_relay` (beat) if the broker never got it.

While it runs, a heartbeat thread renews the run's lease. A lease that ran out means the
worker died (killed, lost node); the relay then starts the run again if its action is safe to
repeat (``ActionSpec.repeatable``) or fails it with the reason, never guessing about a
dangerous change.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from nexusops.common import clock
from nexusops.engine import events

from .. import actions
from ..actions.config import setting
from ..events import ActionRunFinished
from ..models import ActionRun
from .events import describe, run_event

logger = logging.getLogger(__name__)
State = ActionRun.State
# Time a hard-killed task gets beyond its soft limit to record that it timed out.
HARD_LIMIT_GRACE_SECONDS = 30


def lease_seconds() -> float:
    return max(1.0, float(setting("REMEDIATION_LEASE_SECONDS", "60")))


def redispatch_seconds() -> float:
    """How long a queued run may wait before the relay hands it to the broker again."""
    return max(1.0, float(setting("REMEDIATION_REDISPATCH_SECONDS", "60")))


def max_attempts() -> int:
    return max(1, int(setting("REMEDIATION_MAX_ATTEMPTS", "3")))


def time_limits(action: str) -> tuple[int, int]:
    """(soft, hard) seconds for a run of ``action``: the action's own, not the global ones."""
    soft = actions.get(action).timeout_seconds
    return soft, soft + HARD_LIMIT_GRACE_SECONDS


def run_queue(run: ActionRun) -> None:
    """Mark a locked run QUEUED-and-dispatched and send it to a worker after commit."""
    run.dispatched_at = clock.now()
    run.save(update_fields=["dispatched_at"])
    run_id, action = run.pk, run.action
    transaction.on_commit(lambda: run_dispatch(run_id, action))


def run_dispatch(run_id: int, action: str) -> bool:
    """Hand a run to the broker once; a broker outage leaves it to the relay."""
    from nexusops.celery import app

    from ..tasks import action_run_task

    try:
        soft, hard = time_limits(action)
        with app.pool.acquire(block=True, timeout=5) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=2
            )
            action_run_task.apply_async(
                (run_id,), queue="remediation", soft_time_limit=soft, time_limit=hard,
                retry=False, connection=conn,
            )  # fmt: skip
        return True
    except Exception as exc:  # noqa: BLE001 - the relay sends it again
        logger.warning("run %s not dispatched (%s: %s); the relay will", run_id, type(exc), exc)
        return False


@contextmanager
def heartbeat(run_id: int, attempt: int) -> Iterator[None]:
    """Renew the run's lease every third of it while the body runs (in a thread of its own).

    Only this attempt's lease is renewed: a worker that was given up for dead and comes back
    must not keep alive a run the relay has started again.
    """
    stop = threading.Event()
    every = lease_seconds() / 3

    def beat() -> None:
        try:
            while not stop.wait(every):
                now = clock.now()
                ActionRun.objects.filter(pk=run_id, state=State.RUNNING, attempts=attempt).update(
                    heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=lease_seconds())
                )
        except Exception:  # noqa: BLE001 - a missed beat is survivable; the relay checks the lease
            logger.exception("heartbeat of run %s stopped", run_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(every + 5)


def action_runs_relay(*, limit: int = 100) -> dict[str, int]:
    """Re-dispatch queued runs the broker may have lost; deal with runs whose worker died.

    Candidates are read without locks and each is then locked in the house order (incident,
    run) and re-checked, so the relay never deadlocks against a worker finishing a run.
    """
    from .runs import _locked

    now = clock.now()
    stale = now - dt.timedelta(seconds=redispatch_seconds())
    queued = list(
        ActionRun.objects.filter(state=State.QUEUED, dispatched_at__lte=stale)
        .order_by("dispatched_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued += ActionRun.objects.filter(state=State.QUEUED, dispatched_at__isnull=True).values_list(
        "pk", flat=True
    )[:limit]
    dead = list(
        ActionRun.objects.filter(state=State.RUNNING, lease_expires_at__lte=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"redispatched": 0, "restarted": 0, "failed": 0}
    for pk in queued:
        with transaction.atomic():
            run = _locked(pk)
            if run.state == State.QUEUED and (
                run.dispatched_at is None or run.dispatched_at <= stale
            ):
                run_queue(run)
                counts["redispatched"] += 1
    for pk in dead:
        with transaction.atomic():
            run = _locked(pk)
            if run.state != State.RUNNING or not run.lease_expires_at or run.lease_expires_at > now:
                continue  # it finished or beat again meanwhile
            counts[_worker_lost(run, now)] += 1
    return counts


def _worker_lost(run: ActionRun, now: dt.datetime) -> str:
    from .runs import DEADLINE_TIMER, _cancel_timers

    spec = actions.get(run.action)
    seen = f"{run.heartbeat_at:%H:%M:%S} UTC" if run.heartbeat_at else "never"
    _cancel_timers(run, DEADLINE_TIMER)
    if spec.repeatable and run.attempts < max_attempts():
        run.state, run.progress, run.progress_note = State.QUEUED, 0, "worker lost; queued again"
        run.lease_expires_at = None
        run.save(update_fields=["state", "progress", "progress_note", "lease_expires_at"])
        run_event(
            run, "remediation_requeued",
            f"the worker running {describe(run)} stopped (last heartbeat {seen}); it is safe to "
            f"repeat, so it runs again (attempt {run.attempts + 1} of {max_attempts()}).",
        )  # fmt: skip
        run_queue(run)
        return "restarted"
    why = (
        "it is not safe to repeat automatically"
        if not spec.repeatable
        else f"it was tried {run.attempts} times"
    )
    run.state, run.finished_at = State.FAILED, now
    run.error = run.summary = (
        f"the worker running this action stopped (last heartbeat {seen}) and {why}; check the "
        "target's state before running it again"
    )
    run.save(update_fields=["state", "finished_at", "error", "summary"])
    run_event(run, "remediation_failed", f"{describe(run)} failed: {run.error}")
    events.publish(ActionRunFinished(run=run))
    return "failed"
