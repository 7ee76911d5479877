"""Inbound endpoints: Slack slash commands, interactivity and events; PagerDuty webhooks.

Each view is thin and quick (Slack allows 3 seconds): check the signature on the raw body,
parse, record the delivery (``InboundDelivery``, so a replay changes nothing) and hand the
work to a Celery task after commit. No login: the vendor's signature is the authentication.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.models import Incident
from nexusops.engine.models import InboundDelivery

from .pagerduty import HANDLED, event_params, incident_for_event
from .people import user_for_slack
from .requests import (
    InboundRejected,
    PagerDutyWebhookRequest,
    SlackCommandRequest,
    SlackEventRequest,
    SlackInteractionRequest,
    SlackRequest,
    response_url_allowed,
)
from .slack_commands import NOT_LINKED, Deferred, dispatch
from .tasks import inbound_action_task, pagerduty_event_task, slack_reply_task
from .unlinked import unlinked_note_refuse, unlinked_notes_allowed

logger = logging.getLogger(__name__)

BUTTON_ACTIONS = {"incident_ack": "acknowledge", "incident_resolve": "resolve"}
PIN_REACTIONS = {"pushpin", "memo"}
TIMELINE_PREFIX = "!timeline "
BAD_RESPONSE_URL = "This request's response_url is not a Slack URL; nothing was done."
InboundRequest = SlackRequest | PagerDutyWebhookRequest
InboundView = Callable[[Any], HttpResponse]
QUEUE_DOWN = "NexusOps could not queue this (its task broker is unavailable); try again shortly."


def inbound(request_class: type[InboundRequest]) -> Callable[[InboundView], Callable]:
    """An inbound endpoint: no CSRF token, no login (the signature authenticates), POST only.

    The view is handed the request already validated by ``request_class``; a request that
    fails (bad signature, stale, malformed) is answered with its status and changes nothing.
    """

    def decorate(view: InboundView) -> Callable:
        @functools.wraps(view)
        def endpoint(request: HttpRequest) -> HttpResponse:
            req = request_class(request)
            try:
                req.validate()
            except InboundRejected as exc:
                return _rejected(exc)
            return view(req)

        return login_not_required(csrf_exempt(require_POST(endpoint)))

    return decorate


def _ephemeral(text: str) -> JsonResponse:
    return JsonResponse({"response_type": "ephemeral", "text": text})


def _rejected(exc: InboundRejected) -> JsonResponse:
    return JsonResponse({"error": exc.message}, status=exc.status)


def _record_and_enqueue(source: str, event_id: str, task: Task, kwargs: dict) -> bool | None:
    """Record the delivery and enqueue ``task`` after commit.

    Returns True when queued, False for a replay (already recorded: nothing is done), None
    when the broker refused the task: the record is removed so the sender's retry counts.
    """
    failed: list[Exception] = []

    def send() -> None:
        try:
            task.apply_async(kwargs=kwargs, retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker failure
            failed.append(exc)

    with transaction.atomic():
        delivery, created = InboundDelivery.objects.get_or_create(
            source=source, event_id=event_id[:200]
        )
        if not created:
            return False
        transaction.on_commit(send)
    if failed:
        logger.error("inbound %s %s not queued: %s", source, event_id, failed[0])
        InboundDelivery.objects.filter(pk=delivery.pk).delete()
        return None
    return True


def _action_enqueue(
    source: str,
    key: str,
    *,
    action: str,
    params: dict[str, Any],
    user: AbstractBaseUser | None,
    response_url: str | None = None,
) -> bool | None:
    """Hand a Slack request's action to the task, once per delivery (see _record_and_enqueue)."""
    kwargs: dict[str, Any] = {
        "action": action,
        "params": params,
        "user_id": user.pk if user else None,
        "once": f"{source}:{key}",
    }
    if response_url is not None:
        kwargs["response_url"] = response_url
    return _record_and_enqueue(source, key, inbound_action_task, kwargs)


def _reply_later(response_url: str, text: str) -> None:
    """An answer to an interaction, whose HTTP response Slack does not show."""
    if not response_url_allowed(response_url):
        return
    try:
        slack_reply_task.apply_async(
            kwargs={"response_url": response_url, "text": text}, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - the reply is a courtesy; nothing changed
        logger.warning("Slack reply not queued: %s", exc)


# --- Slack slash commands ---------------------------------------------------------------------
@inbound(SlackCommandRequest)
def slack_commands(req: SlackCommandRequest) -> HttpResponse:
    if req.ssl_check:
        return HttpResponse(status=200)
    user = user_for_slack(req.user_id)
    result = dispatch(
        text=req.text, user=user, slack_user_id=req.user_id, channel_id=req.channel_id
    )
    if not isinstance(result, Deferred):
        return _ephemeral(result.text)
    if user is None:  # every deferred command requires a user; never run one as the system
        return _ephemeral(NOT_LINKED)
    if not response_url_allowed(req.response_url):
        return _ephemeral(BAD_RESPONSE_URL)
    queued = _action_enqueue(
        "slack-commands",
        req.replay_key,
        action=result.action,
        params=result.params,
        user=user,
        response_url=req.response_url,
    )
    if queued is False:
        return _ephemeral("This request was already handled.")
    if queued is None:
        return _ephemeral(QUEUE_DOWN)
    return _ephemeral(result.ack)


# --- Slack interactivity (buttons) ------------------------------------------------------------
@inbound(SlackInteractionRequest)
def slack_interactivity(req: SlackInteractionRequest) -> HttpResponse:
    if req.type != "block_actions":
        return HttpResponse(status=200)
    wanted = [a for a in req.actions if a.get("action_id") in BUTTON_ACTIONS]
    if not wanted:  # incident_open is a link button: Slack opens the URL, we do nothing
        return HttpResponse(status=200)
    button = wanted[0]
    if not response_url_allowed(req.response_url):
        return JsonResponse({"error": BAD_RESPONSE_URL}, status=400)
    user = user_for_slack(req.user_id)
    if user is None:
        _reply_later(req.response_url, NOT_LINKED)
        return HttpResponse(status=200)
    number = str(button.get("value") or "").strip().upper()
    incident = Incident.objects.filter(number=number).first() if number else None
    if incident is None:
        _reply_later(req.response_url, "That incident no longer exists in NexusOps.")
        return HttpResponse(status=200)
    queued = _action_enqueue(
        "slack-interactivity",
        req.replay_key,
        action="transition",
        params={"incident": incident.pk, "action": BUTTON_ACTIONS[button["action_id"]]},
        user=user,
        response_url=req.response_url,
    )
    if queued is None:
        return JsonResponse({"error": QUEUE_DOWN}, status=503)
    return HttpResponse(status=200)


# --- Slack events ----------------------------------------------------------------------------
def _slack_text(text: str) -> str:
    """Slack escapes these three in message text; the timeline stores plain text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _event_note(event: dict[str, Any]) -> tuple[str, str, str] | None:
    """(channel id, Slack user id, note text) for an event we record, else None."""
    kind = event.get("type")
    if event.get("bot_id") or event.get("bot_profile"):
        return None  # our own posts (and other bots') never loop back in
    if kind == "message" and not event.get("subtype"):
        text = str(event.get("text") or "")
        if not text.startswith(TIMELINE_PREFIX):
            return None
        note = _slack_text(text[len(TIMELINE_PREFIX) :]).strip()
        if not note:
            return None
        return str(event.get("channel") or ""), str(event.get("user") or ""), note
    if kind == "reaction_added" and event.get("reaction") in PIN_REACTIONS:
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        if item.get("type") != "message" or not item.get("ts"):
            return None
        note = f"pinned a Slack message {item['ts']} (:{event['reaction']}:)"
        return str(item.get("channel") or ""), str(event.get("user") or ""), note
    return None


@inbound(SlackEventRequest)
def slack_events(req: SlackEventRequest) -> HttpResponse:
    if req.type == "url_verification":
        return JsonResponse({"challenge": req.challenge})
    if req.type != "event_callback":
        return HttpResponse(status=200)
    found = _event_note(req.event)
    if found is None:
        return HttpResponse(status=200)
    channel_id, slack_user, note = found
    incident = Incident.objects.filter(slack_channel_id=channel_id).first() if channel_id else None
    if incident is None:
        return HttpResponse(status=200)
    user = user_for_slack(slack_user)
    if user is None and not unlinked_notes_allowed():
        if slack_user:
            unlinked_note_refuse(
                incident=incident,
                channel_id=channel_id,
                slack_user_id=slack_user,
                event_id=req.event_id,
            )
        return HttpResponse(status=200)
    if user is None:
        note = f"Slack user {slack_user or 'unknown'}: {note}"
    elif note.startswith("pinned "):
        note = note[0].upper() + note[1:]
    queued = _action_enqueue(
        "slack-events",
        req.event_id,
        action="note",
        params={"incident": incident.pk, "text": note, "internal": True},
        user=user,
    )
    if queued is None:  # Slack retries a non-2xx answer
        return JsonResponse({"error": QUEUE_DOWN}, status=503)
    return HttpResponse(status=200)


# --- PagerDuty webhooks v3 -------------------------------------------------------------------
@inbound(PagerDutyWebhookRequest)
def pagerduty_webhook(req: PagerDutyWebhookRequest) -> HttpResponse:
    event = req.event
    if event.event_type not in HANDLED:
        return JsonResponse({"ignored": event.event_type})
    incident = incident_for_event(event)
    if incident is None:
        return JsonResponse({"ignored": "no NexusOps incident for this PagerDuty incident"})
    queued = _record_and_enqueue(
        "pagerduty",
        event.id,
        pagerduty_event_task,
        {"incident_id": incident.pk, "params": event_params(event), "once": f"pd:{event.id}"},
    )
    if queued is None:  # PagerDuty retries a non-2xx answer
        return JsonResponse({"error": QUEUE_DOWN}, status=503)
    return JsonResponse({"duplicate" if queued is False else "accepted": event.id})
