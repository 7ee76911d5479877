"""Inbound from Mattermost: the ``/incident`` slash command, the summary's buttons, and
``!timeline`` through an outgoing webhook.

Each request is authenticated before anything is read from it: the slash command and the
outgoing webhook carry their integration's token (``MATTERMOST_SLASH_TOKEN``,
``MATTERMOST_OUTGOING_TOKEN``), compared in constant time; a button press carries the context
we signed when posting the summary (``MATTERMOST_ACTION_SECRET``). The work then goes the way
Slack's does: one action, once per delivery, run by ``inbound_action_task``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse

from chat.identities import chat_identity_user
from incidents.models import Incident
from nexusops.integrations.errors import IntegrationError
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.integrations.mattermost.provider import action_signature

from .mattermost_reply import NOT_LINKED, mattermost_command_task, response_url_allowed
from .requests import InboundRejected, load_json
from .slack_commands import Deferred, dispatch
from .views import QUEUE_DOWN, _action_enqueue, _record_and_enqueue, inbound

TIMELINE_PREFIX = "!timeline "
ACTIONS = {"acknowledge", "resolve"}
BAD_RESPONSE_URL = "This command's response_url is not this Mattermost server's; nothing was done."


class MattermostRequest:
    """A request from Mattermost: a form or JSON body with a ``token`` to check."""

    setting = ""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.body: bytes = request.body

    def _fields(self) -> dict[str, Any]:
        if self.request.content_type == "application/json":
            document = load_json(self.body, "The body")
            if not isinstance(document, dict):
                raise InboundRejected("The body is not a JSON object.", status=400)
            return document
        try:
            pairs = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise InboundRejected("The body is not a form.", status=400) from None
        return {key: values[-1] for key, values in pairs.items()}

    def _check_token(self, token: str) -> None:
        if not token:  # refused as such even while the integration is off
            raise InboundRejected("Missing Mattermost token.", status=401)
        expected = getattr(settings, self.setting, "")
        if not expected:
            raise InboundRejected(f"Mattermost {self.setting} is not set.", status=503)
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise InboundRejected("Invalid Mattermost token.", status=401)

    def validate(self) -> None:
        self.fields = self._fields()
        self._check_token(str(self.fields.get("token") or ""))
        self.user_id = str(self.fields.get("user_id") or "")
        self.channel_id = str(self.fields.get("channel_id") or "")
        self.text = str(self.fields.get("text") or "")
        if not self.user_id:
            raise InboundRejected("A Mattermost request needs 'user_id'.", status=400)

    @property
    def replay_key(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class MattermostSlashRequest(MattermostRequest):
    setting = "MATTERMOST_SLASH_TOKEN"

    def validate(self) -> None:
        super().validate()
        self.response_url = str(self.fields.get("response_url") or "")


class MattermostOutgoingRequest(MattermostRequest):
    setting = "MATTERMOST_OUTGOING_TOKEN"


class MattermostActionRequest(MattermostRequest):
    """A button press: JSON with the ``context`` we signed; no token of its own."""

    def validate(self) -> None:
        self.fields = self._fields() if self.body else {}
        context = self.fields.get("context")
        if not isinstance(context, dict):
            raise InboundRejected("A button press needs its signed 'context'.", status=401)
        self.action = str(context.get("action") or "")
        self.number = str(context.get("incident") or "").upper()
        signature = str(context.get("signature") or "")
        if not signature:
            raise InboundRejected("The button's context is not signed.", status=401)
        if not settings.MATTERMOST_ACTION_SECRET:
            raise InboundRejected("MATTERMOST_ACTION_SECRET is not set.", status=503)
        expected = action_signature(self.action, self.number)
        if not hmac.compare_digest(signature, expected):
            raise InboundRejected("The button's context is not signed by NexusOps.", status=401)
        self.user_id = str(self.fields.get("user_id") or "")
        self.channel_id = str(self.fields.get("channel_id") or "")
        if not self.user_id or self.action not in ACTIONS:
            raise InboundRejected("A button press needs 'user_id' and a known action.", status=400)


def user_for_mattermost(user_id: str) -> AbstractBaseUser | None:
    """The console user remembered for ``user_id`` (``ChatIdentity``), else the one active
    user with the e-mail Mattermost has for it (then remembered)."""

    def email_of(external_id: str) -> str | None:
        try:
            return MattermostClient.default(timeout=1.5).user_email(external_id)
        except IntegrationError:
            return None

    return chat_identity_user(provider="mattermost", external_id=user_id, email_of=email_of)


def _ephemeral(text: str) -> JsonResponse:
    return JsonResponse({"response_type": "ephemeral", "text": text})


@inbound(MattermostSlashRequest)
def mattermost_commands(req: MattermostSlashRequest) -> HttpResponse:
    user = user_for_mattermost(req.user_id)
    result = dispatch(
        text=req.text,
        user=user,
        slack_user_id="",
        channel_id=req.channel_id,
        provider="mattermost",
        not_linked=NOT_LINKED,
    )
    if not isinstance(result, Deferred):
        return _ephemeral(result.text)
    if user is None:
        return _ephemeral(NOT_LINKED)
    if not response_url_allowed(req.response_url):
        return _ephemeral(BAD_RESPONSE_URL)
    # The result goes to the response_url later (mattermost_reply), through the outbox.
    queued = _record_and_enqueue(
        "mattermost-commands",
        req.replay_key,
        mattermost_command_task,
        {
            "action": result.action,
            "params": {**result.params, "channel": "mattermost"},
            "user_id": user.pk,
            "response_url": req.response_url,
            "once": f"mattermost-commands:{req.replay_key}",
        },
    )
    if queued is None:
        return _ephemeral(QUEUE_DOWN)
    return _ephemeral(result.ack if queued else "This request was already handled.")


@inbound(MattermostActionRequest)
def mattermost_actions(req: MattermostActionRequest) -> HttpResponse:
    user = user_for_mattermost(req.user_id)
    if user is None:
        return JsonResponse({"ephemeral_text": NOT_LINKED})
    incident = Incident.objects.filter(number=req.number).first()
    if incident is None:
        return JsonResponse({"ephemeral_text": "That incident no longer exists in NexusOps."})
    queued = _action_enqueue(
        "mattermost-actions",
        req.replay_key,
        action="transition",
        params={"incident": incident.pk, "action": req.action, "channel": "mattermost"},
        user=user,
    )
    if queued is None:
        return JsonResponse({"error": QUEUE_DOWN}, status=503)
    return JsonResponse({"ephemeral_text": f"{req.action.capitalize()} {incident.number}…"})


@inbound(MattermostOutgoingRequest)
def mattermost_outgoing(req: MattermostOutgoingRequest) -> HttpResponse:
    if not req.text.startswith(TIMELINE_PREFIX):
        return HttpResponse(status=200)
    note = req.text[len(TIMELINE_PREFIX) :].strip()
    incident = Incident.objects.filter(
        chat_channels__provider="mattermost", chat_channels__channel_id=req.channel_id
    ).first()
    user = user_for_mattermost(req.user_id)
    if not note or incident is None or user is None:
        return HttpResponse(status=200)  # nothing recorded for an unlinked author
    queued = _action_enqueue(
        "mattermost-outgoing",
        str(req.fields.get("post_id") or req.replay_key),
        action="note",
        params={"incident": incident.pk, "text": note, "internal": True, "channel": "mattermost"},
        user=user,
    )
    if queued is None:
        return JsonResponse({"error": QUEUE_DOWN}, status=503)
    return HttpResponse(status=200)
