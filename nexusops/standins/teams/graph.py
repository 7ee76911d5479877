"""Microsoft Graph v1.0, the Teams part the console uses, as strict as Graph.

Every call needs an app-only bearer token from the stand-in's token endpoint for
``https://graph.microsoft.com`` (401 ``InvalidAuthenticationToken`` otherwise) and the
application permission Graph documents for it (403 ``Forbidden`` otherwise). Errors are
Graph's ``{"error": {"code", "message", "innerError"}}``; beyond the per-app limit Graph
answers 429 ``TooManyRequests`` with ``Retry-After``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from typing import Any
from urllib.parse import unquote

from ..common import Request, Response, route
from .identity import GRAPH_RESOURCE, Grant, Identity

# What each operation needs (learn.microsoft.com/graph/api/..., "Application" column).
PERMISSIONS = {
    "channel.create": {"Channel.Create", "Group.ReadWrite.All"},
    "channel.read": {"Channel.ReadBasic.All", "ChannelSettings.Read.All"},
    "channel.update": {"ChannelSettings.ReadWrite.All"},
    "channel.archive": {"ChannelSettings.ReadWrite.All"},
    "channel.member": {"ChannelMember.ReadWrite.All"},
    "team.member": {"TeamMember.ReadWrite.All"},
    "message.send": {"Teamwork.Migrate.All"},
    "message.read": {"ChannelMessage.Read.All"},  # app-only channel posts are import-only
    "user.read": {"User.Read.All", "User.ReadBasic.All"},
}
_USER_BIND = re.compile(r".*/users\('(?P<id>[^']+)'\)\Z")
_BAD_NAME = re.compile(r"[~#%&*{}+/\\:<>?|'\",]|\.\.")
MAX_NAME = 50
GRAPH_LIMIT = 30  # calls per window per app (Teams' documented per-app budgets are per second)


def graph_error(status: int, code: str, message: str) -> Response:
    inner = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())}
    return Response(status, {"error": {"code": code, "message": message, "innerError": inner}})


class GraphRoutes:
    """Graph's Teams routes, mixed into the Teams stand-in (which provides the state)."""

    identity: Identity
    users: dict[str, dict[str, Any]]
    teams: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    graph_messages: dict[str, list[dict[str, Any]]]
    posts: dict[str, dict[str, Any]]
    bot_app_id: str

    def _graph_grant(
        self, request: Request, operation: str
    ) -> tuple[Grant | None, Response | None]:
        grant = self.identity.grant_for(request.header("Authorization"), GRAPH_RESOURCE)
        if grant is None:
            return None, graph_error(
                401, "InvalidAuthenticationToken", "Access token is empty or invalid."
            )
        if not grant.roles & PERMISSIONS[operation]:
            return None, graph_error(
                403, "Forbidden", f"Missing role permissions on the request: {operation}."
            )
        wait = self.limiter.take(f"graph:{grant.app_id}", GRAPH_LIMIT)  # type: ignore[attr-defined]
        if wait is not None:
            response = graph_error(429, "TooManyRequests", "Too many requests.")
            response.headers["Retry-After"] = str(wait)
            return None, response
        return grant, None

    def _team(self, team_id: str) -> dict[str, Any] | None:
        return self.teams.get(team_id)

    def _user_by_ref(self, ref: str) -> dict[str, Any] | None:
        ref = ref.lower()
        for user in self.users.values():
            if ref in (user["id"], user["userPrincipalName"].lower(), user["mail"].lower()):
                return user
        return None

    @route("POST", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels")
    def channel_create(self, request: Request, team_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.create")
        if denied:
            return denied
        team = self._team(team_id)
        if team is None:
            return graph_error(404, "NotFound", f"Team {team_id} not found.")
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("displayName") or "")
        if not name or len(name) > MAX_NAME or _BAD_NAME.search(name) or name[0] in "_.":
            return graph_error(400, "BadRequest", "Channel name is invalid.")
        membership = str(body.get("membershipType") or "standard")
        if membership not in ("standard", "private", "shared"):
            return graph_error(400, "BadRequest", f"Invalid membershipType {membership}.")
        if any(
            c["team"] == team_id and c["displayName"].lower() == name.lower()
            for c in self.channels.values()
        ):
            return graph_error(
                400, "NameAlreadyExists", "Channel name already existed, please use other name."
            )
        members: list[str] = []
        if membership != "standard":
            owners = body.get("members") or []
            for member in owners:
                user = self._user_by_ref(_bound_user(member))
                if user is None:
                    return graph_error(404, "NotFound", "User not found.")
                members.append(user["id"])
            if not members:
                return graph_error(400, "BadRequest", "A private channel needs an owner.")
        channel_id = f"19:{secrets.token_hex(16)}@thread.tacv2"
        channel = {
            "id": channel_id,
            "team": team_id,
            "displayName": name,
            "description": str(body.get("description") or ""),
            "membershipType": membership,
            "isArchived": False,
            "members": members,
            "webUrl": f"https://teams.microsoft.com/l/channel/{channel_id}/{name}",
            "createdDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self.channels[channel_id] = channel
        return Response(201, _public_channel(channel))

    @route("GET", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels")
    def channel_list(self, request: Request, team_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.read")
        if denied:
            return denied
        if self._team(team_id) is None:
            return graph_error(404, "NotFound", f"Team {team_id} not found.")
        wanted = _filter_name(request.query.get("$filter", ""))
        value = [
            _public_channel(c)
            for c in self.channels.values()
            if c["team"] == team_id and (wanted is None or c["displayName"] == wanted)
        ]
        return Response(200, {"value": value})

    def _channel(self, team_id: str, channel_id: str) -> dict[str, Any] | None:
        channel = self.channels.get(unquote(channel_id))
        return channel if channel is not None and channel["team"] == team_id else None

    @route("GET", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)")
    def channel_get(self, request: Request, team_id: str, channel_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.read")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        return Response(200, _public_channel(channel))

    @route("PATCH", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)")
    def channel_update(self, request: Request, team_id: str, channel_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.update")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        if channel["isArchived"]:
            return graph_error(403, "Forbidden", "Channel is archived.")
        body = request.body if isinstance(request.body, dict) else {}
        if "description" in body:
            if len(str(body["description"])) > 1024:
                return graph_error(400, "BadRequest", "Description is too long.")
            channel["description"] = str(body["description"])
        return Response(204)

    @route("POST", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)/archive")
    def channel_archive(self, request: Request, team_id: str, channel_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.archive")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        if channel["isArchived"]:
            return graph_error(400, "BadRequest", "Channel is already archived.")
        channel["isArchived"] = True
        return Response(202, headers={"Location": f"/teams('{team_id}')/operations('archive')"})

    @route("POST", r"/v1\.0/teams/(?P<team_id>[^/]+)/members")
    def team_member_add(self, request: Request, team_id: str) -> Response:
        _, denied = self._graph_grant(request, "team.member")
        if denied:
            return denied
        team = self._team(team_id)
        if team is None:
            return graph_error(404, "NotFound", f"Team {team_id} not found.")
        user, error = self._member_user(request)
        if error:
            return error
        if user["id"] in team["members"]:
            return graph_error(409, "Conflict", "User is already a member of the team.")
        team["members"].append(user["id"])
        return Response(201, _member(user))

    @route("POST", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)/members")
    def channel_member_add(self, request: Request, team_id: str, channel_id: str) -> Response:
        _, denied = self._graph_grant(request, "channel.member")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        user, error = self._member_user(request)
        if error:
            return error
        if channel["membershipType"] == "standard":
            return graph_error(
                400, "BadRequest", "Members of a standard channel are the team's members."
            )
        if user["id"] not in self.teams[team_id]["members"]:
            return graph_error(400, "BadRequest", "User is not a member of the team.")
        if user["id"] in channel["members"]:
            return graph_error(409, "Conflict", "User is already a member of the channel.")
        channel["members"].append(user["id"])
        return Response(201, _member(user))

    def _member_user(self, request: Request) -> tuple[Any, Response | None]:
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("@odata.type") != "#microsoft.graph.aadUserConversationMember":
            return None, graph_error(400, "BadRequest", "Invalid conversationMember type.")
        ref = _bound_user(body)
        if not ref:
            return None, graph_error(400, "BadRequest", "user@odata.bind is required.")
        user = self._user_by_ref(ref)
        if user is None:
            return None, graph_error(404, "NotFound", f"User '{ref}' not found.")
        return user, None

    @route("POST", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)/messages")
    def channel_message_send(self, request: Request, team_id: str, channel_id: str) -> Response:
        _, denied = self._graph_grant(request, "message.send")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        body = request.body if isinstance(request.body, dict) else {}
        content = (body.get("body") or {}).get("content")
        if not content:
            return graph_error(400, "BadRequest", "Message body is required.")
        message = {"id": str(int(time.time() * 1000)), "body": body["body"]}
        self.graph_messages.setdefault(channel["id"], []).append(message)
        return Response(201, message)

    @route("GET", r"/v1\.0/teams/(?P<team_id>[^/]+)/channels/(?P<channel_id>[^/]+)/messages")
    def channel_messages(self, request: Request, team_id: str, channel_id: str) -> Response:
        """The channel's posts (not their replies), newest first, as ``chatMessage``s."""
        _, denied = self._graph_grant(request, "message.read")
        if denied:
            return denied
        channel = self._channel(team_id, channel_id)
        if channel is None:
            return graph_error(404, "NotFound", "Channel not found.")
        top = max(1, min(int(request.query.get("$top") or 20), 50))
        posts = [
            p for p in self.posts.values() if p["channel"] == channel["id"] and not p["replyToId"]
        ]
        posts.sort(key=lambda p: int(p["id"]), reverse=True)
        return Response(200, {"value": [self._chat_message(p) for p in posts[:top]]})

    def _chat_message(self, post: dict[str, Any]) -> dict[str, Any]:
        attachments = [
            {
                "id": f"{post['id']}-{n}",
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": json.dumps(card),
            }
            for n, card in enumerate(post["cards"])
        ]
        sender = (
            {"user": {"id": post["from_user"]}}
            if post.get("from_user")
            else {"application": {"id": self.bot_app_id, "applicationIdentityType": "bot"}}
        )
        content = post["text"] + "".join(
            f'<attachment id="{a["id"]}"></attachment>' for a in attachments
        )
        return {
            "id": post["id"],
            "replyToId": post["replyToId"],
            "messageType": "message",
            "from": sender,
            "body": {"contentType": "html", "content": content},
            "attachments": attachments,
        }

    @route("GET", r"/v1\.0/users/(?P<ref>[^/]+)")
    def user_get(self, request: Request, ref: str) -> Response:
        _, denied = self._graph_grant(request, "user.read")
        if denied:
            return denied
        user = self._user_by_ref(unquote(ref))
        if user is None:
            return graph_error(404, "Request_ResourceNotFound", f"Resource '{ref}' does not exist.")
        return Response(200, user)


def _bound_user(member: Any) -> str:
    if not isinstance(member, dict):
        return ""
    match = _USER_BIND.match(str(member.get("user@odata.bind") or ""))
    return match["id"] if match else ""


def _filter_name(expression: str) -> str | None:
    match = re.fullmatch(r"displayName eq '(?P<name>(?:[^']|'')*)'", expression.strip())
    return match["name"].replace("''", "'") if match else None


def _public_channel(channel: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in channel.items() if k not in ("team", "members")}


def _member(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "id": secrets.token_hex(8),
        "roles": [],
        "displayName": user["displayName"],
        "userId": user["id"],
        "email": user["mail"],
    }
