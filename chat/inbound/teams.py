"""Microsoft Teams inbound: the bot's messaging endpoint (Bot Framework activities).

Every activity must carry a Bot Framework JWT that :func:`verify_activity` accepts (signature
against the issuer's published keys, issuer, our app id as audience, expiry, channel
endorsement, service URL); anything else is answered 401 and changes nothing.

What a person does in Teams, and what it does here:

* presses a button on the summary card (``Action.Submit`` with ``{"action", "incident"}``):
  Acknowledge / Resolve run the same transition service as the web page and Slack, as that
  person;
* writes ``!timeline <text>`` in an incident channel: an internal note on its timeline.

The person is the one active console user whose e-mail is on their Entra ID account (read
from Graph by ``aadObjectId``); nobody else acts in their name. The work runs in
:func:`incidents.inbound.tasks.teams_action_task` after commit, once per activity id, and the
bot answers in the post's thread.
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

from .tasks import teams_action_task
from .views import QUEUE_DOWN, _record_and_enqueue

logger = logging.getLogger(__name__)
BUTTON_ACTIONS = {"acknowledge", "resolve"}  # what ChatButton.action sends back
TIMELINE_PREFIX = "!timeline "
MAX_BODY = 256 * 1024
_MENTION = re.compile(r"<at>[^<]*</at>")
NOT_LINKED = (
    "No NexusOps account has the e-mail address of your Microsoft account, so nothing was done."
)


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
    sender = activity.get("from") if isinstance(activity.get("from"), dict) else {}
    conversation = activity.get("conversation")
    conversation_id = str(conversation.get("id") or "") if isinstance(conversation, dict) else ""
    channel_id, _, thread = conversation_id.partition(";messageid=")
    reply = {"conversation": channel_id, "thread": thread or str(activity.get("id") or "")}
    pressed = submitted(activity.get("value"))
    if pressed is not None:
        name, number = pressed
        if name not in BUTTON_ACTIONS:
            return HttpResponse(status=200)
        incident = Incident.objects.filter(number=number.upper()).first()
        params = {"action": name, "channel": Channel.TEAMS.value}
        return _enqueue(activity, sender, incident, "transition", params, reply)
    text = _MENTION.sub("", str(activity.get("text") or "")).strip()
    if not text.startswith(TIMELINE_PREFIX) or not text[len(TIMELINE_PREFIX) :].strip():
        return HttpResponse(status=200)
    note = text[len(TIMELINE_PREFIX) :].strip()
    incident = incident_for_channel(channel_id)
    params = {"text": note, "internal": True, "channel": Channel.TEAMS.value}
    return _enqueue(activity, sender, incident, "note", params, reply)


def _enqueue(
    activity: dict[str, Any],
    sender: dict[str, Any],
    incident: Incident | None,
    action: str,
    params: dict[str, Any],
    reply: dict[str, str],
) -> HttpResponse:
    if incident is None:
        return HttpResponse(status=200)
    try:
        user = user_for_teams(str(sender.get("aadObjectId") or ""))
    except VendorUnavailable as exc:
        return _refuse(503, exc.message)
    key = str(activity.get("id") or "")
    if not key:
        return _refuse(400, "activity has no id")
    queued = _record_and_enqueue(
        "teams",
        key,
        teams_action_task,
        {
            "action": action,
            "params": {"incident": incident.pk, **params},
            "user_id": user.pk if user else None,
            "reply": reply,
            "once": f"teams:{key}",
        },
    )
    if queued is None:
        return _refuse(503, QUEUE_DOWN)
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
