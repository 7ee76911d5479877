"""The ``/incident`` slash command's result in Mattermost, through its ``response_url``.

The command's HTTP answer is only the acknowledgement ("Declaring a P2 incident…"); the work
runs in :func:`mattermost_command_task`, which writes the result as an outbox row
(``mattermost.command_reply``) in the same transaction as the work, so a worker or broker
restart delays the answer but never drops it (DESIGN.md rule 3). The row is POSTed to the
command's ``response_url`` as Mattermost documents: a JSON command response,
``response_type`` ``in_channel`` for a change (a change made from Mattermost is not mirrored
back into its channel, so the channel reads it here) and ``ephemeral`` for a refusal.

A ``response_url`` is a command webhook on the Mattermost server itself
(``<MATTERMOST_URL>/hooks/commands/<id>``); any other URL is refused before anything is done,
so a forged one cannot aim us elsewhere.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from incidents.models import Incident
from nexusops.common.errors import ApplicationError
from nexusops.common.tasks import NexusTask
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue, register_sender
from nexusops.integrations.errors import VendorRejected
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.integrations.mattermost.provider import MattermostProvider

from .actions import run_action
from .tasks import _first_run

# Mattermost people are matched to accounts by e-mail (chat.identities), not by an id on the
# profile as Slack's are, so Slack's wording would send them to the wrong fix.
NOT_LINKED = (
    "No NexusOps account has the e-mail address of your Mattermost user, so nothing was done. "
    "Ask a manager to give your NexusOps account the same e-mail address."
)

COMMAND_REPLY = "mattermost.command_reply"
HOOK_PATH = "/hooks/commands/"
# The answers are written for Slack's mrkdwn, where *x* is bold; in Mattermost it is **x**.
_SLACK_BOLD = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")


def response_url_allowed(url: str) -> bool:
    """A command webhook on the configured Mattermost server, and nothing else."""
    base = urlsplit(settings.MATTERMOST_URL or "")
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    if not base.scheme or not base.netloc or parts.username or parts.password:
        return False
    prefix = base.path.rstrip("/") + HOOK_PATH
    hook = parts.path[len(prefix) :]
    return (
        (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
        and parts.path.startswith(prefix)
        and bool(hook)
        and "/" not in hook
        and not parts.query
    )


def mattermost_markdown(text: str) -> str:
    return _SLACK_BOLD.sub(r"**\1**", text)


def command_reply_enqueue(
    *, once: str, response_url: str, text: str, response_type: str, incident_id: int | None = None
) -> None:
    """The answer as an outbox row (in the caller's transaction); shown on the incident's
    deliveries when the command was about one."""
    incident = Incident.objects.filter(pk=incident_id).first() if incident_id else None
    outbox_enqueue(
        target=COMMAND_REPLY,
        key=f"mattermost-reply:{once}"[:200],
        incident=incident,
        payload={
            "response_url": response_url,
            "text": mattermost_markdown(text),
            "response_type": response_type,
        },
    )


@shared_task(base=NexusTask, bind=True, ignore_result=True)
def mattermost_command_task(
    self, *, action: str, params: dict, user_id: int, response_url: str, once: str
) -> str:
    """Run the command's action once, as ``user_id``; its answer is an outbox row written in
    the same transaction."""
    actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    with transaction.atomic():
        if not _first_run(once):
            return "duplicate"
        if actor is None:
            text, kind = NOT_LINKED, "ephemeral"
        else:
            try:
                with transaction.atomic():
                    text, kind = run_action(action, actor, params), "in_channel"
            except ApplicationError as exc:
                text, kind = f":warning: {exc.message}", "ephemeral"
        command_reply_enqueue(
            once=once,
            response_url=response_url,
            text=text,
            response_type=kind,
            incident_id=params.get("incident"),
        )
    return text


def command_reply(message: OutboxMessage) -> dict:
    # Mattermost keeps no key for these, so nothing can be reconciled: after a crash mid-call
    # the reply may show twice (``may_repeat``), which is harmless.
    payload = message.payload
    if not response_url_allowed(payload["response_url"]):
        raise VendorRejected(
            "the response_url is not this Mattermost server's", vendor="mattermost"
        )
    MattermostClient.default().command_respond(
        payload["response_url"], payload["text"], response_type=payload["response_type"]
    )
    return {"response_type": payload["response_type"]}


def register() -> None:
    register_sender(
        COMMAND_REPLY,
        send=command_reply,
        enabled=MattermostProvider.enabled,
        off_reason=MattermostProvider.off_reason,
        label="Mattermost command answer",
        may_repeat=True,
        chat="mattermost",
    )
