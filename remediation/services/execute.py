"""What a worker does with a run: the dry run, the run itself, and the timers that watch them.

The dry run arrives through the outbox (target ``remediation.preview``). The run itself is a
task of its own (``remediation.tasks.action_run_task``, see :mod:`.dispatch`): it claims the
run under a row lock before the call, so a dangerous action is started once per attempt, and
holds a lease renewed by a heartbeat while it works. Vendor failures are the run's result
(failed, timed out), never a delivery retry: a rollback is not repeated by itself.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction

from incidents.models import Incident
from nexusops.common import clock
from nexusops.engine import events, outbox
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.integrations.errors import IntegrationError, NotConfigured

from .. import actions
from ..events import ActionRunFinished
from ..models import ActionRun
from . import dispatch
from .events import describe, run_event, truncated
from .runs import (
    DEADLINE_TIMER,
    PREVIEW_TARGET,
    RUN_TARGET,
    _cancel_timers,
    _expire,
    _locked,
    awaiting_approval,
)

logger = logging.getLogger(__name__)
State = ActionRun.State


def _failure(exc: BaseException) -> tuple[str, str]:
    """(state, error) for an exception raised by an action."""
    if isinstance(exc, SoftTimeLimitExceeded) or getattr(exc, "code", "") in ("operation_timeout",):
        return State.TIMED_OUT, f"timed out: {exc}".rstrip(": ")
    if isinstance(exc, NotConfigured):
        return State.FAILED, f"not configured: {exc}"
    if isinstance(exc, IntegrationError | actions.ActionFailed):
        return State.FAILED, str(exc)
    logger.exception("remediation action failed unexpectedly")
    return State.FAILED, f"{type(exc).__name__}: {exc}"


def action_preview(*, run_id: int) -> dict:
    """Run the action's dry run and wait for approval, or reject the request with the reason."""
    run = ActionRun.objects.filter(pk=run_id).first()
    if run is None or run.state != State.PREVIEWING:
        return {"state": run.state if run else "missing"}
    spec = actions.get(run.action)
    pinned: dict = {}
    try:
        shown = spec.preview(run.params) if spec.preview else spec.description
        error = ""
        if isinstance(shown, actions.Preview):
            text, pinned = shown.text, _jsonable(shown.pinned)
        else:
            text = shown
    except Exception as exc:  # noqa: BLE001 - every failure becomes the run's state
        text, (_, error) = "", _failure(exc)
    with transaction.atomic():
        run = _locked(run_id)
        if run.state != State.PREVIEWING:
            return {"state": run.state}
        if error:
            run.state, run.error, run.finished_at = State.REJECTED, error, clock.now()
            run.save(update_fields=["state", "error", "finished_at"])
            run_event(
                run, "remediation_rejected", f"{describe(run)} refused by its dry run: {error}"
            )
        else:
            awaiting_approval(run, text, pinned)
    return {"state": run.state}


def _progress(run_id: int):  # noqa: ANN202 - a Progress callback
    def report(percent: int, note: str) -> None:
        ActionRun.objects.filter(pk=run_id, state=State.RUNNING).update(
            progress=max(0, min(99, int(percent))), progress_note=note[:200]
        )

    return report


def action_execute(*, run_id: int) -> dict:
    """Run a queued action once per attempt; record its output and result.

    A second delivery of the same task (a broker redelivery, the relay) finds the run no longer
    queued and does nothing: the run row, not the message, says whether it has started.
    """
    with transaction.atomic():
        run = _locked(run_id)
        if run.state != State.QUEUED:
            return {"state": run.state}
        spec = actions.get(run.action)
        now = clock.now()
        run.state, run.progress, run.progress_note = State.RUNNING, 5, "started"
        run.started_at = run.started_at or now
        run.attempts += 1
        run.heartbeat_at = now
        run.lease_expires_at = now + dt.timedelta(seconds=dispatch.lease_seconds())
        # The task's hard limit kills the worker's child a little after this; the deadline
        # timer is the backstop when nothing reports at all.
        run.deadline_at = now + dt.timedelta(seconds=dispatch.time_limits(run.action)[1])
        run.save(update_fields=[
            "state", "started_at", "progress", "progress_note", "deadline_at", "attempts",
            "heartbeat_at", "lease_expires_at",
        ])  # fmt: skip
        Timer.objects.create(
            incident=run.incident, kind=DEADLINE_TIMER, due_at=run.deadline_at, data={"run": run.pk}
        )
        again = f" (attempt {run.attempts})" if run.attempts > 1 else ""
        run_event(run, "remediation_started", f"started {describe(run)}{again}.")
        attempt, params = run.attempts, dict(run.params)
        if run.pinned:
            params["pinned"] = dict(run.pinned)
    output, summary, data = "", "", {}
    try:
        with dispatch.heartbeat(run_id, attempt):
            outcome = spec.run(params, _progress(run_id))
        state: str = State.SUCCEEDED
        error = ""
        output, summary, data = outcome.output, outcome.summary, outcome.data
    except BaseException as exc:  # noqa: BLE001 - every failure becomes the run's state
        if not isinstance(exc, Exception | SoftTimeLimitExceeded):
            raise
        state, error = _failure(exc)
        output = getattr(exc, "output", "") or ""
    return _finish(run_id, attempt, state, summary, output, data, error)


def _finish(
    run_id: int, attempt: int, state: str, summary: str, output: str, data: dict, error: str
) -> dict:
    with transaction.atomic():
        run = _locked(run_id)
        if run.attempts != attempt:
            # The relay gave this worker up for dead and started the run again: the newer
            # attempt owns the run's fields; this one only says what it saw.
            run_event(run, "remediation_late_result", f"an earlier attempt of {describe(run)} "
                      f"finished after it was given up: {(summary or error)[:500]}")  # fmt: skip
            return {"state": run.state}
        late = run.state != State.RUNNING  # its deadline passed meanwhile
        run.output, run.result, run.error = output, _jsonable(data), error
        run.summary = (summary or error)[:500]
        run.finished_at = run.finished_at or clock.now()
        fields = ["output", "result", "error", "summary", "finished_at"]
        if not late:
            run.state, run.progress, run.progress_note = state, 100, ""
            run.lease_expires_at = None
            fields += ["state", "progress", "progress_note", "lease_expires_at"]
        run.save(update_fields=fields)
        if not late:
            _cancel_timers(run, DEADLINE_TIMER)
        if output:
            shown, cut = truncated(output)
            run_event(run, "remediation_output", f"output of {describe(run)}:\n{shown}",
                      data={"truncated": cut, "chars": len(output)})  # fmt: skip
        if late:
            run_event(run, "remediation_late_result",
                      f"{describe(run)} finished after its deadline: {run.summary}")  # fmt: skip
        else:
            kind = "remediation_succeeded" if state == State.SUCCEEDED else "remediation_failed"
            words = run.get_state_display().lower()
            run_event(run, kind, f"{describe(run)} {words}: {run.summary}")
            events.publish(ActionRunFinished(run=run))
    return {"state": run.state}


def _jsonable(data: dict) -> dict:
    import json

    return json.loads(json.dumps(data or {}, default=str))


# ---- the outbox senders -------------------------------------------------------------------


def _send_preview(message: OutboxMessage) -> dict:
    return action_preview(run_id=message.payload["run"])


def _send_run(message: OutboxMessage) -> dict:
    """Runs queued through the outbox before runs had a task of their own: hand them over."""
    run_id = message.payload["run"]
    run = ActionRun.objects.filter(pk=run_id).only("state", "action").first()
    if run is not None and run.state == State.QUEUED:
        dispatch.run_dispatch(run_id, run.action)
    return {"handed_to": "remediation.tasks.action_run_task"}


def register_senders() -> None:
    outbox.register_sender(
        PREVIEW_TARGET, send=_send_preview, enabled=lambda: True, queue="remediation",
        label="Remediation dry run",
    )  # fmt: skip
    outbox.register_sender(
        RUN_TARGET, send=_send_run, enabled=lambda: True, queue="remediation",
        label="Remediation action (hand-over)",
    )  # fmt: skip


# ---- timers (fired by the engine's sweep; listed in remediation/handlers.py) -------------


def approval_expired(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    # The sweep holds the timer (and the incident); lock the run and re-check: an approval
    # or refusal that committed first has already decided it, and must not be undone.
    run = _locked(timer.data["run"])
    if run.state == State.AWAITING_APPROVAL:
        _expire(run)


def deadline_passed(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    run = _locked(timer.data["run"])
    if run.state != State.RUNNING:
        return
    run.state, run.finished_at = State.TIMED_OUT, now
    run.error = run.summary = f"no result within {actions.get(run.action).timeout_seconds} s"
    run.save(update_fields=["state", "finished_at", "error", "summary"])
    run_event(run, "remediation_timed_out", f"{describe(run)} timed out: {run.error}")
    events.publish(ActionRunFinished(run=run))
