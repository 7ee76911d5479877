"""A Slack Web API stand-in: the methods our Slack adapter calls, answered like Slack does.

Slack answers HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": "<code>"}``,
and HTTP 429 with a ``Retry-After`` header when rate limiting. Methods live under ``/api/``,
so point ``SLACK_API_URL`` at ``f"{base_url}/api/"``. Arguments arrive as a form, a JSON body
or a query string; all three are accepted. See :mod:`nexusops.standins.common` for the
``/_standin/`` control endpoints and how to add a method.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from typing import Any

from .common import (
    Request,
    Response,
    StandinApp,
    StandinServer,
    route,
    serve_until_interrupted,
)

_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}\Z")
_USER_ID = re.compile(r"[UW][A-Z0-9]+\Z")
BOT_USER_ID = "U0NEXUSBOT"


def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _error(code: str, **fields: Any) -> Response:
    return Response(200, {"ok": False, "error": code, **fields})


class SlackStandin(StandinApp):
    vendor = "slack"

    def reset_state(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message
        self.pins: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    def state(self) -> Any:
        return {"channels": self.channels, "messages": self.messages, "pins": self.pins}

    def authorize(self, request: Request) -> Response | None:
        auth = request.header("Authorization")
        if not auth.startswith("Bearer "):
            return _error("not_authed")
        if not auth[len("Bearer ") :].startswith("xox"):
            return _error("invalid_auth")
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            seconds = "1" if retry_after is None else str(int(retry_after))
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": seconds})
        return Response(status, "<html><body>Slack is having trouble</body></html>")

    def not_found(self, request: Request) -> Response:
        return Response(404, {"ok": False, "error": "unknown_method"})

    def _channel(self, args: dict[str, Any]) -> dict[str, Any] | None:
        return self.channels.get(str(args.get("channel", "")))

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # --- methods --------------------------------------------------------------------------
    @route("POST", r"/api/auth\.test")
    def auth_test(self, request: Request) -> Response:
        return _ok(
            url="https://nexusops-standin.slack.com/",
            team="NexusOps stand-in",
            user="nexusops",
            team_id="T0NEXUS",
            user_id=BOT_USER_ID,
            bot_id="B0NEXUS",
        )

    @route("POST", r"/api/conversations\.create")
    def conversations_create(self, request: Request) -> Response:
        args = request.params()
        name = str(args.get("name", ""))
        if not name:
            return _error("invalid_name_required")
        if not _CHANNEL_NAME.match(name):
            return _error("invalid_name_specials")
        if any(c["name"] == name for c in self.channels.values()):
            return _error("name_taken")
        channel_id = f"C{next(self._ids):08d}"
        private = str(args.get("is_private", "")).lower() in ("1", "true")
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": private,
            "is_archived": False,
            "creator": BOT_USER_ID,
            "members": [BOT_USER_ID],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        self.channels[channel_id] = channel
        return _ok(channel=channel)

    @route("GET|POST", r"/api/conversations\.list")
    def conversations_list(self, request: Request) -> Response:
        args = request.params()
        exclude_archived = str(args.get("exclude_archived", "")).lower() in ("1", "true")
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(args.get("cursor") or 0)
        channels = [
            c for c in self.channels.values() if not (exclude_archived and c["is_archived"])
        ]
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return _ok(
            channels=page,
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    @route("POST", r"/api/conversations\.(?P<field>setTopic|setPurpose)")
    def conversations_set_text(self, request: Request, field: str) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
        key = "topic" if field == "setTopic" else "purpose"
        value = str(args.get(key, ""))
        channel[key] = {"value": value, "creator": BOT_USER_ID, "last_set": 1700000000}
        return _ok(channel=channel)

    @route("POST", r"/api/conversations\.invite")
    def conversations_invite(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
        users = [u.strip() for u in str(args.get("users", "")).split(",") if u.strip()]
        if not users:
            return _error("no_user")
        if any(not _USER_ID.match(u) for u in users):
            return _error("user_not_found")
        new = [u for u in users if u not in channel["members"]]
        if not new:
            return _error("already_in_channel")
        channel["members"].extend(new)
        return _ok(channel=channel)

    @route("POST", r"/api/conversations\.archive")
    def conversations_archive(self, request: Request) -> Response:
        channel = self._channel(request.params())
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("already_archived")
        channel["is_archived"] = True
        return _ok()

    @route("POST", r"/api/chat\.postMessage")
    def chat_post_message(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
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

    @route("GET|POST", r"/api/conversations\.history")
    def conversations_history(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
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
        if "text" in args:
            message["text"] = args["text"]
        if "blocks" in args:
            message["blocks"] = _decode_blocks(args["blocks"])
        return _ok(channel=channel["id"], ts=message["ts"], text=message["text"])

    @route("POST", r"/api/pins\.add")
    def pins_add(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None:
            return _error("channel_not_found")
        ts = str(args.get("timestamp", ""))
        if ts not in self.messages.get(channel["id"], {}):
            return _error("message_not_found")
        pinned = self.pins.setdefault(channel["id"], [])
        if ts in pinned:
            return _error("already_pinned")
        pinned.append(ts)
        return _ok()


def _decode_blocks(value: Any) -> list[Any]:
    if isinstance(value, str):  # forms carry blocks as a JSON string
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def make_server(host: str = "127.0.0.1", port: int = 0) -> tuple[StandinServer, str]:
    """A Slack stand-in, not yet serving. ``SLACK_API_URL`` is ``f"{base_url}/api/"``."""
    server = StandinServer((host, port), SlackStandin())
    return server, server.base_url


def serve_forever(host: str = "127.0.0.1", port: int = 0) -> None:
    server, _ = make_server(host, port)
    serve_until_interrupted(server, "Slack")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Slack Web API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    serve_forever(options.host, options.port)
