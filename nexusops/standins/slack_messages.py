"""The Slack stand-in's message, pin and user methods (the server is :mod:`.slack`).

A mixin of :class:`~.slack.SlackStandin`: it reads the state that class keeps (``channels``,
``messages``, ``pins``, ``users``, ``ephemeral``) and its helpers (``_member_channel``,
``_channel``, ``_next_ts``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .common import Request, Response, route

_USER_ID = re.compile(r"[UW][A-Z0-9]+\Z")
BOT_USER_ID = "U0NEXUSBOT"


def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _error(code: str, **fields: Any) -> Response:
    return Response(200, {"ok": False, "error": code, **fields})


class SlackMessagesMixin:
    """``chat.*``, ``conversations.history``, ``pins.add`` and ``users.*``."""

    channels: dict[str, dict[str, Any]]
    messages: dict[str, dict[str, dict[str, Any]]]
    pins: dict[str, list[str]]
    users: dict[str, dict[str, Any]]
    ephemeral: list[dict[str, Any]]
    # and, from SlackStandin: _member_channel(args), _channel(args), _next_ts()

    @route("POST", r"/api/chat\.postMessage")
    def chat_post_message(self, request: Request) -> Response:
        args = request.params()
        channel, error = self._member_channel(args)
        if error is not None:
            return error
        blocks = _decode_blocks(args.get("blocks"))
        if not args.get("text") and not blocks:
            return _error("no_text")
        ts = self._next_ts()
        message = {"type": "message", "ts": ts, "text": args.get("text", ""), "blocks": blocks}
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = None
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        self.messages.setdefault(channel["id"], {})[ts] = message
        return _ok(channel=channel["id"], ts=ts, message=message)

    @route("POST", r"/api/chat\.postEphemeral")
    def chat_post_ephemeral(self, request: Request) -> Response:
        """As Slack: the bot must be in the channel, and so must the user who is to see it."""
        args = request.params()
        channel, error = self._member_channel(args)
        if error is not None:
            return error
        user = str(args.get("user", ""))
        if not _USER_ID.match(user) or user not in self.users:
            return _error("user_not_found")
        if user not in channel["members"]:
            return _error("user_not_in_channel")
        if not args.get("text") and not _decode_blocks(args.get("blocks")):
            return _error("no_text")
        self.ephemeral.append({"channel": channel["id"], "user": user, "text": args.get("text")})
        return _ok(message_ts=self._next_ts())

    @route("GET|POST", r"/api/conversations\.history")
    def conversations_history(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        if BOT_USER_ID not in channel["members"]:
            return _error("not_in_channel")
        include_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 100)
        newest_first = sorted(
            self.messages.get(channel["id"], {}).values(), key=lambda m: m["ts"], reverse=True
        )[:limit]
        messages = [
            m if include_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in newest_first
        ]
        return _ok(messages=messages, has_more=False)

    @route("POST", r"/api/chat\.update")
    def chat_update(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        message = self.messages.get(channel["id"], {}).get(str(args.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
        if "text" in args:
            message["text"] = args["text"]
        if "blocks" in args:
            message["blocks"] = _decode_blocks(args["blocks"])
        return _ok(channel=channel["id"], ts=message["ts"], text=message["text"])

    @route("POST", r"/api/pins\.add")
    def pins_add(self, request: Request) -> Response:
        args = request.params()
        channel, error = self._member_channel(args)
        if error is not None:
            return error
        ts = str(args.get("timestamp", ""))
        if ts not in self.messages.get(channel["id"], {}):
            return _error("message_not_found")
        pinned = self.pins.setdefault(channel["id"], [])
        if ts in pinned:
            return _error("already_pinned")
        pinned.append(ts)
        return _ok()

    @route("GET|POST", r"/api/users\.info")
    def users_info(self, request: Request) -> Response:
        user = self.users.get(str(request.params().get("user", "")))
        return _ok(user=user) if user else _error("user_not_found")

    @route("GET|POST", r"/api/users\.lookupByEmail")
    def users_lookup_by_email(self, request: Request) -> Response:
        email = str(request.params().get("email", "")).strip().lower()
        if not email:
            return _error("invalid_arguments")
        for user in self.users.values():
            if user["profile"]["email"].lower() == email and not user["deleted"]:
                return _ok(user=user)
        return _error("users_not_found")


def _decode_blocks(value: Any) -> list[Any]:
    if isinstance(value, str):  # forms carry blocks as a JSON string
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []
