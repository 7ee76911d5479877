"""The engine's Celery tasks: thin, safe to run twice. A message lost with the broker is a row
the relay sends again, so renaming a task never loses work."""

from celery import shared_task

from nexusops.common.tasks import NexusTask


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def timers_sweep_task(self) -> int:
    """Beat runs this every few seconds; it fires every due timer (safe to overlap). A run
    that fired its limit leaves a backlog (a worker was down): it sweeps again at once
    rather than wait for the next beat, for at most ``TIMERS_SWEEP_MAX_SECONDS``."""
    from .timers import timers_sweep_backlog

    return timers_sweep_backlog()


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def outbox_deliver_task(self, message_id: int) -> str:
    """One delivery attempt. Retries are rows with a due time, not Celery retries, so a
    broker or worker restart delays them and never drops them."""
    from .outbox import outbox_deliver

    return outbox_deliver(message_id=message_id)


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def outbox_relay_task(self) -> int:
    from .outbox import outbox_relay

    return outbox_relay()
