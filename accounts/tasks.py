from __future__ import annotations

from celery import shared_task

from nexusops.common.tasks import NexusTask


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def profile_links_fill_task(self, user_id: int) -> dict:
    """After an SSO sign-in: fill the person's Slack and PagerDuty ids from their e-mail."""
    from .services.links import profile_links_fill

    return profile_links_fill(user_id=user_id)
