"""The Mattermost stand-in's state, authentication and rate limits."""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from .. import demo
from ..common import Request, Response, StandinApp, StandinServer, serve_until_interrupted
from ..ratelimit import RateLimiter
from .channels import ChannelsMixin
from .events import WebSocketMixin
from .hooks import CommandHooksMixin
from .posts import PostsMixin
from .words import BOT_USER_ID, TEAM_ID, TEAM_NAME, TOKEN, error, user_token

# Demo people: (id, username, e-mail); ids are 26 characters, as Mattermost's.
USERS = (
    ("mmuseriris00000000000000ic", "iris", "iris@nexus.example"),
    ("mmuserrobin000000000000rsp", "robin", "robin@nexus.example"),
)


class MattermostStandin(ChannelsMixin, PostsMixin, WebSocketMixin, CommandHooksMixin, StandinApp):
    vendor = "mattermost"

    def __init__(
        self, *, token: str = TOKEN, per_second: int | None = 10, auth_timeout: float = 5.0
    ) -> None:
        self.token = token
        self.per_second = per_second
        self.auth_timeout = auth_timeout  # an unauthenticated WebSocket is closed after it
        self.caller = BOT_USER_ID  # the user whose token the request being answered carries
        self.sockets: list = []  # the open WebSocket sessions (events.py)
        super().__init__()

    def reset_state(self) -> None:
        self.teams: dict[str, dict[str, Any]] = {
            TEAM_ID: {"id": TEAM_ID, "name": TEAM_NAME, "display_name": "NEXUS", "type": "O"}
        }
        self.team_members: dict[str, set[str]] = {TEAM_ID: {BOT_USER_ID}}
        self.users: dict[str, dict[str, Any]] = {
            BOT_USER_ID: {"id": BOT_USER_ID, "username": "nexusops", "email": "", "is_bot": True}
        }
        # The demo's people (the Slack workspace's, by the same e-mails), then the tests'.
        people = [
            (f"mmuser{username}".ljust(26, "0")[:26], username, email)
            for _, username, _, email in demo.SLACK_USERS
        ]
        # Access tokens: the bot's, and each person's own (a person pins a post as themself).
        self.tokens: dict[str, str] = {self.token: BOT_USER_ID}
        for user_id, username, email in [*people, *USERS]:
            self.users[user_id] = {"id": user_id, "username": username, "email": email}
            self.team_members[TEAM_ID].add(user_id)
            self.tokens[user_token(username)] = user_id
        self.channels: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.limiter = RateLimiter(1.0 if self.per_second else None)
        self._ids = itertools.count(1)
        self.command_hooks: dict[str, dict[str, Any]] = {}
        self.command_responses: list[dict[str, Any]] = []
        self.websocket_reset()

    def state(self) -> Any:
        return {
            "channels": self.channels,
            "members": self.members,
            "posts": self.posts,
            "users": self.users,
            "command_hooks": self.command_hooks,
            "command_responses": self.command_responses,
            "websockets": self.websocket_state(),
        }

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):0{26 - len(prefix)}d}"

    def authorize(self, request: Request) -> Response | None:
        if not request.path.startswith("/api/v4/"):
            return None
        auth = request.header("Authorization")
        caller = (
            self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if caller is None:
            return error(401, "api.context.session_expired.app_error", "Invalid or expired session")
        self.caller = caller
        if self.per_second:
            wait = self.limiter.take(auth, self.per_second)
            if wait is not None:
                return Response(
                    429,
                    {
                        "id": "api.context.rate_limited",
                        "message": "Too many requests",
                        "status_code": 429,
                    },
                    {
                        "X-RateLimit-Limit": str(self.per_second),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(wait),
                    },
                )
        return None

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            reset = "1" if retry_after is None else str(int(retry_after))
            return Response(
                429,
                {"id": "api.context.rate_limited", "status_code": 429},
                {"X-RateLimit-Reset": reset},
            )
        return Response(status, "<html><body>Mattermost is having trouble</body></html>")

    def not_found(self, request: Request) -> Response:
        return error(404, "api.context.404.app_error", "Sorry, we could not find the page.")


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, per_second: int | None = 10
) -> tuple[StandinServer, str]:
    server = StandinServer((host, port), MattermostStandin(per_second=per_second))
    return server, server.base_url


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Mattermost API v4 stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    serve_until_interrupted(make_server(options.host, options.port)[0], "Mattermost")
