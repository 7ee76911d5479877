from celery import shared_task

from nexusops.common.tasks import NexusTask


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def alerts_process_task(self) -> int:
    """Queued after each ingest commit (coalesced per process); safe to run twice."""
    from .services import alerts_pending, processing_schedule
    from .services.processing import alerts_process_run

    done, stopped_early = alerts_process_run()
    if stopped_early and alerts_pending():
        processing_schedule()  # more than one run's worth: carry on in a fresh task
    return done


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def alerts_sweep_task(self) -> int:
    """Beat: process what no task picked up (broker was down), settle flapping, lift silences."""
    from .services import alerts_process, alerts_settle

    return alerts_process() + alerts_settle()
