from celery import shared_task

from nexusops.common.tasks import NexusTask

from .services import timers_sweep


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def timers_sweep_task(self) -> int:
    """Beat runs this every few seconds; it fires every due timer (safe to overlap)."""
    return timers_sweep()
