"""Microsoft Teams inbound: the bot's messaging endpoint (Bot Framework activities).

Every activity must carry a Bot Framework JWT that :func:`verify_activity` accepts (signature
against the issuer's published keys, issuer, our app id as audience, expiry, channel
endorsement, service URL); anything else is answered 401 and changes nothing.

What a person does in Teams, and what it does here:

* presses a button on the summary card (``Action.Submit`` with ``{"action", "incident"}``):
  Acknowledge / Resolve run the same transition service as the web page and Slack, as that
  person;
* writes ``!timeline <text>`` in an incident channel: an internal note on its timeline;
* sends the bot a command (``@NexusOps ack`` in a channel, ``ack`` in a personal chat): the
  subcommands of Slack's ``/incident`` (:mod:`chat.inbound.slack_commands`, same handlers,
  same permission checks), declared to Teams in ``deploy/teams/manifest.json``.

The person is the one active console user whose e-mail is on their Entra ID account (read
from Graph by ``aadObjectId``); nobody else acts in their name, and someone unlinked is told
so. The action runs in the request, once per activity, and the bot's answer is an outbox row
written in the same transaction (:mod:`chat.inbound.teams_actions`).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chat.identities import chat_identity_user
from chat.models import IncidentChatChannel
from incidents.models import Channel, Incident
from nexusops.integrations.errors import IntegrationError, InvalidSignature, VendorUnavailable
from nexusops.integrations.teams.auth import verify_activity
from nexusops.integrations.teams.cards import submitted
from nexusops.integrations.teams.client import TeamsClient

from .slack_commands import Deferred, dispatch
from .teams_actions import NOT_LINKED, Thread, teams_activity_handle

logger = logging.getLogger(__name__)
BUTTON_ACTIONS = {"acknowledge", "resolve"}  # what ChatButton.action sends back
TIMELINE_PREFIX = "!timeline "
# How a person calls the bot's commands in a channel; the name is the manifest's bot name.
BOT_MENTION = "@NexusOps"
MAX_BODY = 256 * 1024
_MENTION = re.compile(r"<at>[^<]*</at>")
NOT_AN_INCIDENT_CHANNEL = "`!timeline` notes go in an incident's own channel."
NO_SUCH_INCIDENT = "That incident no longer exists in NexusOps."


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@login_not_required
@csrf_exempt
@require_POST
def teams_messages(request: HttpRequest) -> HttpResponse:
    authorization = request.headers.get("Authorization", "")
    if not authorization.startswith("Bearer "):
        return _refuse(401, "missing Bot Framework bearer token")
    if not settings.TEAMS_APP_ID:
        return _refuse(404, "Microsoft Teams is not configured.")
    if len(request.body) > MAX_BODY:
        return _refuse(413, "activity too large")
    try:
        activity = json.loads(request.body)
    except ValueError:
        return _refuse(400, "activity is not JSON")
    if not isinstance(activity, dict):
        return _refuse(400, "activity is not a JSON object")
    try:
        verify_activity(
            authorization,
            activity,
            openid_url=settings.TEAMS_OPENID_URL,
            issuer=settings.TEAMS_BOT_ISSUER,
            app_id=settings.TEAMS_APP_ID,
        )
    except InvalidSignature as exc:
        logger.warning("teams activity refused: %s", exc.message)
        return _refuse(401, exc.message)
    except VendorUnavailable as exc:  # Teams redelivers on a 5xx
        return _refuse(503, exc.message)
    if activity.get("type") != "message":
        return HttpResponse(status=200)  # conversationUpdate and the like: nothing to do
    return _message(activity)


def _message(activity: dict[str, Any]) -> HttpResponse:
    activity_id = str(activity.get("id") or "")
    if not activity_id:
        return _refuse(400, "activity has no id")
    sender = activity.get("from") if isinstance(activity.get("from"), dict) else {}
    conversation = activity.get("conversation")
    conversation = conversation if isinstance(conversation, dict) else {}
    channel_id, _, thread = str(conversation.get("id") or "").partition(";messageid=")
    if not channel_id:
        return _refuse(400, "activity has no conversation")
    in_channel = conversation.get("conversationType", "channel") == "channel"
    # In a channel the answer goes in the post's thread; a personal chat has no threads.
    where = Thread(channel_id, (thread or activity_id) if in_channel else "")
    try:
        user = user_for_teams(str(sender.get("aadObjectId") or ""))
    except VendorUnavailable as exc:  # Teams redelivers on a 5xx
        return _refuse(503, exc.message)
    pressed = submitted(activity.get("value"))
    if pressed is not None:
        return _button(activity_id, where, user, *pressed)
    text = _MENTION.sub("", str(activity.get("text") or "")).strip()
    if text == TIMELINE_PREFIX.strip() or text.startswith(TIMELINE_PREFIX):
        return _timeline(activity_id, where, user, text[len(TIMELINE_PREFIX) :].strip())
    return _command(activity_id, where, user, text, channel_id if in_channel else "")


def _button(
    activity_id: str, where: Thread, user: AbstractBaseUser | None, name: str, number: str
) -> HttpResponse:
    if name not in BUTTON_ACTIONS:
        return HttpResponse(status=200)
    incident = Incident.objects.filter(number=number.upper()).first()
    if incident is None or user is None:
        return _answer(activity_id, where, NO_SUCH_INCIDENT if incident is None else NOT_LINKED)
    params = {"incident": incident.pk, "action": name, "channel": Channel.TEAMS.value}
    return _act(activity_id, where, user, incident, "transition", params)


def _timeline(
    activity_id: str, where: Thread, user: AbstractBaseUser | None, note: str
) -> HttpResponse:
    if not note:
        return HttpResponse(status=200)
    incident = incident_for_channel(where.conversation)
    if incident is None or user is None:
        answer = NOT_AN_INCIDENT_CHANNEL if incident is None else NOT_LINKED
        return _answer(activity_id, where, answer)
    params = {
        "incident": incident.pk,
        "text": note,
        "internal": True,
        "channel": Channel.TEAMS.value,
    }
    return _act(activity_id, where, user, incident, "note", params)


def _command(
    activity_id: str, where: Thread, user: AbstractBaseUser | None, text: str, channel_id: str
) -> HttpResponse:
    """A bot command: the same subcommands and checks as Slack's ``/incident``."""
    result = dispatch(
        text=text,
        user=user,
        slack_user_id="",
        channel_id=channel_id,
        provider="teams",
        prefix=BOT_MENTION,
        not_linked=NOT_LINKED,
    )
    if not isinstance(result, Deferred):
        return _answer(activity_id, where, result.text)
    if user is None:  # every deferred command requires a user; never run one as the system
        return _answer(activity_id, where, NOT_LINKED)
    pk = result.params.get("incident")
    incident = Incident.objects.filter(pk=pk).first() if pk else None
    params = {**result.params, "channel": Channel.TEAMS.value}
    return _act(activity_id, where, user, incident, result.action, params)


def _answer(activity_id: str, where: Thread, answer: str) -> HttpResponse:
    """Nothing to run: only the bot's answer, recorded once for this activity."""
    teams_activity_handle(activity_id=activity_id, where=where, answer=answer)
    return HttpResponse(status=200)


def _act(
    activity_id: str,
    where: Thread,
    user: AbstractBaseUser,
    incident: Incident | None,
    action: str,
    params: dict,
) -> HttpResponse:
    """Run ``action`` once for this activity; its answer goes out with it (the outbox)."""
    teams_activity_handle(
        activity_id=activity_id,
        where=where,
        incident=incident,
        action=action,
        params=params,
        actor=user,
    )
    return HttpResponse(status=200)


def incident_for_channel(channel_id: str) -> Incident | None:
    """The incident whose Teams channel this is (recorded when its set-up was delivered)."""
    if not channel_id:
        return None
    row = (
        IncidentChatChannel.objects.select_related("incident")
        .filter(provider="teams", channel_id=channel_id)
        .first()
    )
    return row.incident if row else None


def user_for_teams(aad_object_id: str) -> AbstractBaseUser | None:
    """The console user remembered for this Entra ID account (``ChatIdentity``), else the one
    active user with its e-mail (then remembered), or None.

    Raises VendorUnavailable when Graph cannot be asked (Teams then redelivers).
    """
    client = TeamsClient.default_or_none(timeout=3.0)
    if client is None or not aad_object_id:
        return None

    def email_of(external_id: str) -> str | None:
        try:
            return client.user_email(external_id)
        except VendorUnavailable:
            raise
        except IntegrationError as exc:
            logger.info("teams user %s not resolved: %s", external_id, exc)
            return None

    return chat_identity_user(provider="teams", external_id=aad_object_id, email_of=email_of)
