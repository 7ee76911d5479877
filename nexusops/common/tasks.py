"""The one base class every NexusOps task uses.

Tasks take ids, load rows, call one service and are safe to run twice (STYLE.md habit 4).
The base retries what is worth retrying with exponential backoff and jitter and logs a
failure as one structured line. To add a task::

    @shared_task(base=NexusTask, bind=True, queue="notifications")
    def outbox_deliver(self, message_id: int) -> None:
        outbox.deliver(message_id=message_id)
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from .errors import RetryableError

logger = logging.getLogger("nexusops.tasks")


class NexusTask(Task):
    autoretry_for = (RetryableError, OperationalError, InterfaceError, ConnectionError)
    max_retries = 8
    retry_backoff = 2
    retry_backoff_max = 600
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True

    def retry(
        self,
        args=None,
        kwargs=None,
        exc=None,
        throw=True,
        eta=None,
        countdown=None,
        max_retries=None,
        **options,
    ):
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None and countdown is None and eta is None:
            countdown = float(retry_after)
        return super().retry(
            args=args,
            kwargs=kwargs,
            exc=exc,
            throw=throw,
            eta=eta,
            countdown=countdown,
            max_retries=max_retries,
            **options,
        )

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error(
            "task=%s id=%s args=%r kwargs=%r error=%s: %s",
            self.name,
            task_id,
            args,
            kwargs,
            type(exc).__name__,
            exc,
        )

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        logger.warning("task %s[%s] retrying: %s: %s", self.name, task_id, type(exc).__name__, exc)


@shared_task(base=NexusTask, bind=True)
def heartbeat_record(self, *, token: str) -> None:
    """Write a heartbeat row: proves a real worker consumed from the broker (readiness, tests)."""
    from .models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        token=token, defaults={"hostname": self.request.hostname or ""}
    )
