"""Remediation tasks: thin, they take ids and call one service (safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from nexusops.common.tasks import NexusTask


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def action_run_task(self, run_id: int) -> dict:
    """One run. Dispatched with the action's own time limits (``dispatch.time_limits``); a
    failure of the action is the run's result, never a Celery retry."""
    from .services.execute import action_execute

    return action_execute(run_id=run_id)


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def action_runs_relay_task(self) -> dict:
    """Beat: re-dispatch lost runs and deal with runs whose worker died."""
    from .services.dispatch import action_runs_relay

    return action_runs_relay()
