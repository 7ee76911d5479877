"""A Slack Web API stand-in: the methods our Slack adapter calls, answered like Slack does.

Slack answers HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": "<code>"}``,
and HTTP 429 with a ``Retry-After`` header when rate limiting. Methods live under ``/api/``,
so point ``SLACK_API_URL`` at ``f"{base_url}/api/"``. Arguments arrive as a form, a JSON body
or a query string; all three are accepted. See :mod:`nexusops.standins.common` for the
``/_standin/`` control endpoints and how to add a method.

It is as strict as Slack where the console has been caught out before:

* the workspace knows its people (the demo's, from :data:`.demo.SLACK_USERS`); an unknown id
  is ``user_not_found`` and ``users.lookupByEmail`` finds people by e-mail;
* ``conversations.invite`` is all-or-nothing: one unknown, already-present or self id fails
  the whole call with per-user ``errors`` and nobody is added;
* the bot must be a member to post, pin, edit or invite (``not_in_channel``); a channel it
  created has it as a member, and ``conversations.join`` joins a public one;
* each method has Slack's rate-limit tier (calls per minute) and answers HTTP 429 with
  ``Retry-After`` beyond it. ``rate_window`` shrinks the minute for tests.

Extra hooks: ``POST /_standin/users`` ``{"users": [{"id", "name", "email"}]}`` adds people to
the workspace; ``POST /_standin/rate-limits`` ``{"window": s, "limits": {"method": calls}}`` or
``{"off": true}`` changes the limits until the next reset.
"""

from __future__ import annotations

import argparse
import itertools
import re
from typing import Any

from . import demo
from .common import (
    Request,
    Response,
    StandinApp,
    StandinServer,
    route,
    serve_until_interrupted,
)
from .ratelimit import RateLimiter
from .slack_messages import _USER_ID, BOT_USER_ID, SlackMessagesMixin, _error, _ok

_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}\Z")
TEAM_ID = "T0NEXUS"

# Slack's documented tiers, in calls per minute (api.slack.com/apis/rate-limits).
TIERS = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "conversations.create": 2,
    "conversations.list": 2,
    "conversations.setTopic": 2,
    "conversations.setPurpose": 2,
    "conversations.archive": 2,
    "conversations.join": 3,
    "conversations.leave": 3,
    "conversations.invite": 3,
    "conversations.history": 3,
    "conversations.members": 4,
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "pins.add": 2,
    "users.info": 4,
    "users.lookupByEmail": 3,
}
# chat.postMessage is "special": about one a second per channel, with short bursts allowed.
POST_PER_CHANNEL = 60


def _user(user_id: str, name: str, email: str, *, is_bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name,
        "deleted": False,
        "is_bot": is_bot,
        "profile": {"email": email, "real_name": name, "display_name": name},
    }


class SlackStandin(SlackMessagesMixin, StandinApp):
    vendor = "slack"

    def __init__(self, *, rate_window: float | None = 60.0) -> None:
        """``rate_window``: the seconds Slack's per-minute tiers apply to; None: no limits."""
        self.default_rate_window = rate_window
        super().__init__()

    def reset_state(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message
        self.pins: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {
            BOT_USER_ID: _user(BOT_USER_ID, "nexusops", "", is_bot=True)
        }
        for user_id, username, name, email in demo.SLACK_USERS:
            self.users[user_id] = _user(user_id, name or username, email)
        self.limiter = RateLimiter(self.default_rate_window)
        self.rate_limits: dict[str, int] = {m: TIERS[t] for m, t in METHOD_TIERS.items()}
        self.ephemeral: list[dict[str, Any]] = []  # Slack shows these once and keeps nothing
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    def state(self) -> Any:
        return {
            "channels": self.channels,
            "messages": self.messages,
            "pins": self.pins,
            "users": self.users,
            "ephemeral": self.ephemeral,
        }

    def authorize(self, request: Request) -> Response | None:
        auth = request.header("Authorization")
        if not auth.startswith("Bearer "):
            return _error("not_authed")
        if not auth[len("Bearer ") :].startswith("xox"):
            return _error("invalid_auth")
        # Slack counts a rate limit per method and token, before it does any work.
        return self._throttle(request)

    def _throttle(self, request: Request) -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        method = request.path[len("/api/") :]
        if method == "chat.postMessage":
            bucket, limit = f"{method}:{request.params().get('channel', '')}", POST_PER_CHANNEL
        elif method in self.rate_limits:
            bucket, limit = method, self.rate_limits[method]
        else:
            return None
        wait = self.limiter.take(bucket, limit)
        if wait is None:
            return None
        return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})

    def control(self, action: str, request: Request) -> Response | None:
        body = request.body if isinstance(request.body, dict) else {}
        if action == "users":
            for person in body.get("users", []):
                user_id = str(person["id"])
                self.users[user_id] = _user(
                    user_id, str(person.get("name") or user_id), str(person.get("email") or "")
                )
            return Response(200, {"ok": True, "users": sorted(self.users)})
        if action == "rate-limits":
            if body.get("off"):
                self.limiter.window = None
            if "window" in body:
                self.limiter.window = float(body["window"])
            self.rate_limits.update({k: int(v) for k, v in (body.get("limits") or {}).items()})
            self.limiter.clear()
            return Response(200, {"ok": True, "window": self.limiter.window})
        return None

    def _member_channel(
        self, args: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Response | None]:
        """The channel the bot acts in, or the error Slack gives: unknown, archived, not in."""
        channel = self._channel(args)
        if channel is None:
            return None, _error("channel_not_found")
        if channel["is_private"] and BOT_USER_ID not in channel["members"]:
            return None, _error("channel_not_found")  # a private channel is invisible
        if channel["is_archived"]:
            return None, _error("is_archived")
        if BOT_USER_ID not in channel["members"]:
            return None, _error("not_in_channel")
        return channel, None

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
        channel, error = self._member_channel(args)
        if error is not None:
            return error
        key = "topic" if field == "setTopic" else "purpose"
        value = str(args.get(key, ""))
        channel[key] = {"value": value, "creator": BOT_USER_ID, "last_set": 1700000000}
        return _ok(channel=channel)

    @route("POST", r"/api/conversations\.join")
    def conversations_join(self, request: Request) -> Response:
        channel = self._channel(request.params())
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
        if BOT_USER_ID in channel["members"]:
            return _ok(channel=channel, warning="already_in_channel")
        channel["members"].append(BOT_USER_ID)
        return _ok(channel=channel)

    @route("POST", r"/api/conversations\.leave")
    def conversations_leave(self, request: Request) -> Response:
        channel = self._channel(request.params())
        if channel is None:
            return _error("channel_not_found")
        if BOT_USER_ID not in channel["members"]:
            return _ok(not_in_channel=True)
        channel["members"].remove(BOT_USER_ID)
        return _ok()

    @route("GET|POST", r"/api/conversations\.members")
    def conversations_members(self, request: Request) -> Response:
        args = request.params()
        channel = self._channel(args)
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            return _error("channel_not_found")
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(args.get("cursor") or 0)
        members = channel["members"]
        more = start + limit < len(members)
        return _ok(
            members=members[start : start + limit],
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    @route("POST", r"/api/conversations\.invite")
    def conversations_invite(self, request: Request) -> Response:
        """All or nothing, as Slack: any bad id fails the call and nobody is added."""
        args = request.params()
        channel, error = self._member_channel(args)
        if error is not None:
            return error
        users = [u.strip() for u in str(args.get("users", "")).split(",") if u.strip()]
        if not users:
            return _error("no_user")
        errors = []
        for user in dict.fromkeys(users):
            if user == BOT_USER_ID:
                problem = "cant_invite_self"
            elif not _USER_ID.match(user) or user not in self.users:
                problem = "user_not_found"
            elif self.users[user]["deleted"]:
                problem = "cant_invite"
            elif user in channel["members"]:
                problem = "already_in_channel"
            else:
                continue
            errors.append({"user": user, "ok": False, "error": problem})
        if errors:
            return _error(errors[0]["error"], errors=errors)
        channel["members"].extend(dict.fromkeys(users))
        return _ok(channel=channel)

    @route("POST", r"/api/conversations\.archive")
    def conversations_archive(self, request: Request) -> Response:
        channel = self._channel(request.params())
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("already_archived")
        if BOT_USER_ID not in channel["members"]:
            return _error("not_in_channel")
        channel["is_archived"] = True
        return _ok()


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, rate_window: float | None = 60.0
) -> tuple[StandinServer, str]:
    """A Slack stand-in, not yet serving. ``SLACK_API_URL`` is ``f"{base_url}/api/"``.

    ``rate_window`` is the period of Slack's per-minute limits (60 s like Slack; shorter in
    tests; None to switch rate limiting off, as a benchmark of our own code wants).
    """
    server = StandinServer((host, port), SlackStandin(rate_window=rate_window))
    return server, server.base_url


def serve_forever(host: str = "127.0.0.1", port: int = 0, rate_window: float | None = 60.0) -> None:
    server, _ = make_server(host, port, rate_window=rate_window)
    serve_until_interrupted(server, "Slack")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Slack Web API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="never answer 429 (for benchmarks)"
    )
    options = parser.parse_args()
    serve_forever(options.host, options.port, None if options.no_rate_limits else 60.0)
