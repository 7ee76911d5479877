"""The Bot Framework side of the Teams stand-in: token issuer metadata and the Bot Connector.

* ``GET /v1/.well-known/openidconfiguration`` and ``GET /v1/.well-known/keys``: the Bot
  Framework issuer's OpenID metadata and JWKS (with each key's ``endorsements``).
* ``POST /v3/conversations/{id}/activities``: a message (text, or an Adaptive Card attachment)
  into a conversation. The id of a channel starts a new post in it; ``{channel};messageid=N``
  replies in that post's thread; ``a:<AAD id>`` is the bot's personal chat with that person
  (no threads there). 201 ``{"id": activityId}``.
* ``PUT /v3/conversations/{id}/activities/{activityId}``: replaces that message (the summary
  card is updated in place this way). 200 ``{"id": activityId}``.

Each needs a token for ``https://api.botframework.com`` issued to the configured bot app
(401 otherwise), and the bot must be installed in the channel's team (403
``BotNotInConversationRoster``). Teams allows a bot about 7 operations a second per
conversation; beyond that: 429 with ``Retry-After``.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import unquote

from ..common import Request, Response, route
from .identity import BOT_RESOURCE, Identity

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
PER_CONVERSATION = 7
PERSONAL_PREFIX = "a:"  # the bot's personal chat with one person


def connector_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


class ConnectorRoutes:
    """Bot Connector routes, mixed into the Teams stand-in (which provides the state)."""

    identity: Identity
    bot_app_id: str
    teams: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    posts: dict[str, dict[str, Any]]  # activity id -> the message as Teams shows it
    users: dict[str, dict[str, Any]]
    _activity_ids: itertools.count

    def base_url(self) -> str:
        raise NotImplementedError

    @route("GET", r"/v1/\.well-known/openidconfiguration")
    def openid_configuration(self, request: Request) -> Response:
        return Response(200, self.identity.openid_configuration(self.base_url()))

    @route("GET", r"/v1/\.well-known/keys")
    def jwks(self, request: Request) -> Response:
        return Response(200, self.identity.jwks())

    def _conversation(
        self, request: Request, conversation_id: str
    ) -> tuple[dict[str, Any] | None, str, Response | None]:
        """The channel a conversation id names, the thread's root id ("" for a new post)."""
        grant = self.identity.grant_for(request.header("Authorization"), BOT_RESOURCE)
        if grant is None or grant.app_id != self.bot_app_id:
            return None, "", connector_error(401, "Unauthorized", "Authorization has been denied.")
        conversation_id = unquote(conversation_id)
        channel_id, _, thread = conversation_id.partition(";messageid=")
        channel = self.channels.get(channel_id) or self._personal(channel_id)
        if channel is not None and channel.get("personal") and thread:
            return None, "", connector_error(400, "BadArgument", "A personal chat has no threads.")
        if channel is None:
            return None, "", connector_error(404, "ConversationNotFound", "Conversation not found.")
        if self.bot_app_id not in self.teams[channel["team"]]["apps"]:
            return (
                None,
                "",
                connector_error(403, "BotNotInConversationRoster", "The bot is not installed."),
            )
        if channel["isArchived"]:
            return None, "", connector_error(403, "Forbidden", "The channel is archived.")
        wait = self.limiter.take(f"bot:{channel_id}", PER_CONVERSATION)  # type: ignore[attr-defined]
        if wait is not None:
            response = connector_error(429, "TooManyRequests", "Too many requests.")
            response.headers["Retry-After"] = str(wait)
            return None, "", response
        return channel, thread, None

    def _personal(self, conversation_id: str) -> dict[str, Any] | None:
        """The bot's personal chat with a person of the tenant (``a:<their AAD id>``), as a
        conversation of the team the bot is installed in; None for an unknown person."""
        if not conversation_id.startswith(PERSONAL_PREFIX):
            return None
        if conversation_id[len(PERSONAL_PREFIX) :] not in self.users:
            return None
        team = next(iter(self.teams))
        return {"id": conversation_id, "team": team, "isArchived": False, "personal": True}

    @route("POST", r"/v3/conversations/(?P<conversation_id>[^/]+)/activities")
    def activity_send(self, request: Request, conversation_id: str) -> Response:
        channel, thread, error = self._conversation(request, conversation_id)
        if error is not None or channel is None:
            return error or connector_error(404, "ConversationNotFound", "")
        message, problem = _message(request.body)
        if problem:
            return connector_error(400, "BadArgument", problem)
        if thread and thread not in self.posts:
            return connector_error(404, "ActivityNotFoundInConversation", "No such thread.")
        activity_id = str(1_700_000_000_000 + next(self._activity_ids))
        self.posts[activity_id] = {
            "id": activity_id,
            "channel": channel["id"],
            "replyToId": thread or None,
            "version": 1,
            **message,
        }
        return Response(201, {"id": activity_id})

    @route("PUT", r"/v3/conversations/(?P<conversation_id>[^/]+)/activities/(?P<activity_id>\d+)")
    def activity_update(self, request: Request, conversation_id: str, activity_id: str) -> Response:
        channel, _, error = self._conversation(request, conversation_id)
        if error is not None or channel is None:
            return error or connector_error(404, "ConversationNotFound", "")
        post = self.posts.get(activity_id)
        if post is None or post["channel"] != channel["id"] or post.get("from_user"):
            return connector_error(
                404, "ActivityNotFoundInConversation", "The activity was not found."
            )
        message, problem = _message(request.body)
        if problem:
            return connector_error(400, "BadArgument", problem)
        post.update(message)
        post["version"] += 1
        return Response(200, {"id": activity_id})


def _message(body: Any) -> tuple[dict[str, Any], str]:
    """The text and cards of an activity, or what is wrong with it."""
    if not isinstance(body, dict) or body.get("type") != "message":
        return {}, "Activity type must be 'message'."
    attachments = body.get("attachments") or []
    cards = []
    for attachment in attachments:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if attachment.get("contentType") != CARD_TYPE or not isinstance(content, dict):
            return {}, "Unsupported attachment."
        if content.get("type") != "AdaptiveCard" or not content.get("version"):
            return {}, "Adaptive Card needs type AdaptiveCard and a version."
        if not isinstance(content.get("body", []), list):
            return {}, "Adaptive Card body must be a list."
        cards.append(content)
    text = str(body.get("text") or "")
    if not text and not cards:
        return {}, "Activity has neither text nor attachments."
    return {"text": text, "cards": cards, "textFormat": body.get("textFormat", "plain")}, ""
