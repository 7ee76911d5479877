"""Celery tasks for inbound Slack and PagerDuty requests: thin, by id, safe to run twice.

The views answer Slack within its 3 seconds and enqueue these after commit. A redelivered
task (a worker died after the work but before the ack) finds its ``once`` marker and does
nothing: the marker is written in the same transaction as the service's change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

from nexusops.common.errors import ApplicationError
from nexusops.common.tasks import NexusTask
from nexusops.engine.models import InboundDelivery
from nexusops.integrations.errors import IntegrationError, VendorUnavailable
from nexusops.integrations.slack.messages import escape_mrkdwn

from .actions import run_action
from .pagerduty import pagerduty_event_apply
from .respond import respond
from .slack_commands import NOT_LINKED

logger = logging.getLogger(__name__)
DONE_SOURCE = "inbound-done"
# The names these tasks had before the move to ``chat``: tasks already queued under them
# (a rolling deploy, a broker holding work through an outage) still find their function.
OLD = "incidents.inbound.tasks."


def _first_run(once: str) -> bool:
    if not once:
        return True
    _, created = InboundDelivery.objects.get_or_create(source=DONE_SOURCE, event_id=once[:200])
    return created


def _reply(response_url: str, text: str) -> None:
    if not response_url:
        return
    try:
        respond(response_url, text)
    except VendorUnavailable as exc:
        # Only the reply is retried; the work is done and must not run again.
        logger.info("Slack reply deferred: %s", exc)
        slack_reply_task.apply_async(kwargs={"response_url": response_url, "text": text})
    except IntegrationError as exc:
        logger.warning("Slack reply not sent: %s", exc)


def _run_once(
    action: str, actor, params: dict, once: str, warning: Callable[[str], str]
) -> str | None:
    """Run one inbound action at most once per ``once`` key and return the answer for the
    chat (a refusal in the chat's own words), or None when it already ran. (Teams runs its
    actions in the request instead: :mod:`chat.inbound.teams_actions`.)"""
    try:
        with transaction.atomic():
            if not _first_run(once):
                return None
            return run_action(action, actor, params)
    except ApplicationError as exc:
        return warning(exc.message)


@shared_task(base=NexusTask, bind=True, ignore_result=True, name=OLD + "inbound_action_task")
def inbound_action_task(
    self,
    *,
    action: str,
    params: dict,
    user_id: int | None = None,
    response_url: str = "",
    once: str = "",
) -> str:
    """Run one inbound action (one service call) as ``user_id`` (None: the system), then
    answer through ``response_url`` when there is one."""
    actor = None
    if user_id is not None:
        actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if actor is None:
            _reply(response_url, NOT_LINKED)
            return "no user"
    text = _run_once(action, actor, params, once, lambda m: f":warning: {escape_mrkdwn(m)}")
    if text is None:
        return "duplicate"
    _reply(response_url, text)
    return text


@shared_task(base=NexusTask, bind=True, ignore_result=True, name=OLD + "slack_reply_task")
def slack_reply_task(self, *, response_url: str, text: str) -> None:
    """Retry a reply whose first attempt met a Slack outage (retried by the base task)."""
    respond(response_url, text)


@shared_task(base=NexusTask, bind=True, ignore_result=True, name=OLD + "pagerduty_event_task")
def pagerduty_event_task(self, *, incident_id: int, params: dict, once: str = "") -> str:
    with transaction.atomic():
        if not _first_run(once):
            return "duplicate"
        return pagerduty_event_apply(incident_id=incident_id, **params)
