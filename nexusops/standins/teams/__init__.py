"""A Microsoft Teams stand-in: Microsoft identity, Graph v1.0 and the Bot Framework, one server.

Paths are the vendors' own, so each client is pointed at this server's base URL:

* ``POST /{tenant}/oauth2/v2.0/token`` - client-credentials tokens, as
  ``login.microsoftonline.com`` (:mod:`.identity`);
* ``/v1.0/...`` - Microsoft Graph: channels, members, users (:mod:`.graph`);
* ``/v3/conversations/...`` - the Bot Connector (the ``serviceUrl``), and
  ``/v1/.well-known/...`` - the Bot Framework issuer's OpenID metadata and keys
  (:mod:`.connector`).

It holds one tenant with one team (:data:`TEAM_ID`), the demo's people (AAD object ids made
from their usernames), and one app registration that is both the Graph app and the bot,
granted :data:`DEFAULT_ROLES` and installed in the team.

It also plays Teams towards the bot: ``POST /_standin/press`` ``{"activity_id", "user",
"data"}`` is a person pressing an ``Action.Submit`` button on a card the bot posted, and
``POST /_standin/say`` ``{"channel", "user", "text"}`` a person writing in a channel (to the
bot: ``<at>NexusOps</at> text``), or ``{"personal": true, "user", "text"}`` in their personal
chat with the bot; either
is delivered as a Bot Framework activity, signed with the issuer's key, to the messaging
endpoint set by ``POST /_standin/bot`` ``{"endpoint": url}``; the answer's status comes back.
Other hooks: ``/_standin/users`` ``{"users": [{"id", "name", "email"}]}``,
``/_standin/permissions`` ``{"roles": [...]}`` (what the app is granted),
``/_standin/rotate-keys``, ``/_standin/uninstall`` (the bot leaves the team) and
``/_standin/rate-limits`` ``{"window": s}`` or ``{"off": true}``.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from .. import demo
from ..common import Request, Response, StandinApp, StandinServer, route, serve_until_interrupted
from ..ratelimit import RateLimiter
from .connector import PERSONAL_PREFIX, ConnectorRoutes
from .graph import GraphRoutes
from .identity import AppRegistration, Identity

TENANT_ID = "5f1c3c1e-0000-4e11-9c35-6e65787573a1"
TEAM_ID = "a7d0b2f4-1c3e-4f5a-9b8c-6e6578757301"
APP_ID = "3b1e8d2a-7c44-4f1b-a1d2-6e65787573b0"
APP_SECRET = "nexusops-demo-teams-secret"
DEFAULT_ROLES = {
    "Channel.Create",
    "ChannelSettings.ReadWrite.All",
    "ChannelMember.ReadWrite.All",
    "TeamMember.ReadWrite.All",
    "Channel.ReadBasic.All",
    "User.Read.All",
    "ChannelMessage.Read.All",
}


def aad_id(username: str) -> str:
    """The demo tenant's AAD object id of a demo user."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{username}.nexus.example"))


def _user(user_id: str, name: str, email: str) -> dict[str, Any]:
    return {"id": user_id, "displayName": name, "mail": email, "userPrincipalName": email}


class TeamsStandin(GraphRoutes, ConnectorRoutes, StandinApp):
    vendor = "teams"

    def __init__(self, *, rate_window: float | None = 1.0) -> None:
        self.default_rate_window = rate_window
        self.server_url = ""
        self.default_bot_endpoint = ""  # the demo's console; a reset keeps it
        super().__init__()

    def base_url(self) -> str:
        return self.server_url

    def reset_state(self) -> None:
        self.identity = Identity()
        self.bot_app_id = APP_ID
        self.identity.apps[APP_ID] = AppRegistration(
            APP_ID, APP_SECRET, TENANT_ID, set(DEFAULT_ROLES)
        )
        self.users = {}
        for _, username, name, email in demo.SLACK_USERS:
            uid = aad_id(username)
            self.users[uid] = _user(uid, name or username, email)
        self.teams = {
            TEAM_ID: {
                "id": TEAM_ID,
                "displayName": "NEXUS Incidents",
                "members": [],
                "apps": [APP_ID],
            }
        }
        self.channels = {}
        self.graph_messages = {}
        self.posts = {}
        self.delivered: list[dict[str, Any]] = []
        self.bot_endpoint = getattr(self, "default_bot_endpoint", "")
        self.limiter = RateLimiter(self.default_rate_window)
        self._activity_ids = itertools.count(1)

    def state(self) -> Any:
        return {
            "teams": self.teams,
            "channels": self.channels,
            "posts": self.posts,
            "graph_messages": self.graph_messages,
            "users": self.users,
            "delivered": self.delivered,
            "bot_endpoint": self.bot_endpoint,
        }

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": {"code": "NotFound", "message": request.path}})

    def fault_response(self, status: int, retry_after: float | None) -> Response:
        headers = {"Retry-After": str(int(retry_after or 1))} if status == 429 else {}
        code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
        return Response(status, {"error": {"code": code, "message": "injected"}}, headers)

    @route("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token")
    def token(self, request: Request, tenant: str) -> Response:
        if not isinstance(request.body, dict) or "x-www-form-urlencoded" not in request.header(
            "Content-Type"
        ):
            return Response(400, {"error": "invalid_request"})
        status, body = self.identity.issue(tenant, request.body)
        return Response(status, body)

    # --- control --------------------------------------------------------------------------
    def control(self, action: str, request: Request) -> Response | None:
        body = request.body if isinstance(request.body, dict) else {}
        if action == "users":
            for person in body.get("users", []):
                self.users[str(person["id"])] = _user(
                    str(person["id"]), str(person.get("name") or ""), str(person.get("email") or "")
                )
            return Response(200, {"ok": True, "users": sorted(self.users)})
        if action == "bot":
            self.bot_endpoint = str(body.get("endpoint") or "")
            return Response(200, {"ok": True})
        if action == "permissions":
            self.identity.apps[APP_ID].roles = set(body.get("roles") or [])
            self.identity.grants.clear()  # new consent: old tokens no longer carry the roles
            return Response(200, {"ok": True})
        if action == "rotate-keys":
            return Response(200, {"ok": True, "kid": self.identity.rotate()})
        if action == "uninstall":
            self.teams[TEAM_ID]["apps"] = []
            return Response(200, {"ok": True})
        if action == "rate-limits":
            self.limiter.window = None if body.get("off") else float(body.get("window", 1.0))
            self.limiter.clear()
            return Response(200, {"ok": True})
        return None

    def handle(self, request: Request) -> Response:
        # Deliveries call the console, which may call back in: never hold the lock meanwhile.
        if request.method == "POST" and request.path in ("/_standin/press", "/_standin/say"):
            with self.lock:
                activity, problem = self._user_activity(request.path.rsplit("/", 1)[1], request)
            if activity is None:
                return Response(400, {"ok": False, "error": problem})
            return self._deliver(activity)
        return super().handle(request)

    def _user_activity(self, kind: str, request: Request) -> tuple[dict[str, Any] | None, str]:
        body = request.body if isinstance(request.body, dict) else {}
        user = self.users.get(str(body.get("user", "")))
        if user is None:
            return None, "unknown user"
        if not self.bot_endpoint:
            return None, "no bot endpoint set (POST /_standin/bot)"
        if kind == "press":
            post = self.posts.get(str(body.get("activity_id", "")))
            if post is None:
                return None, "unknown activity"
            channel = self.channels.get(post["channel"])
            if channel is None:
                return None, "this stand-in has buttons in channels only"
            extra: dict[str, Any] = {"replyToId": post["id"], "value": body.get("data") or {}}
            conversation = f"{channel['id']};messageid={post['replyToId'] or post['id']}"
        elif body.get("personal"):
            # A message in the person's personal chat with the bot: no mention needed.
            conversation = f"{PERSONAL_PREFIX}{user['id']}"
            channel = {"id": conversation, "team": TEAM_ID, "displayName": ""}
            text = str(body.get("text") or "")
            activity_id = str(1_700_000_000_000 + next(self._activity_ids))
            self.posts[activity_id] = {
                "id": activity_id, "channel": conversation, "replyToId": None, "text": text,
                "cards": [], "from_user": user["id"], "version": 1,
            }  # fmt: skip
            extra = {"id": activity_id, "text": text, "textFormat": "plain"}
            kind = "personal"
        else:
            channel = self.channels.get(str(body.get("channel", "")))
            if channel is None:
                return None, "unknown channel"
            text = str(body.get("text") or "")
            activity_id = str(1_700_000_000_000 + next(self._activity_ids))
            self.posts[activity_id] = {
                "id": activity_id, "channel": channel["id"], "replyToId": None, "text": text,
                "cards": [], "from_user": user["id"], "version": 1,
            }  # fmt: skip
            extra = {"id": activity_id, "text": f"<at>NexusOps</at> {text}", "textFormat": "plain"}
            conversation = channel["id"]
        activity: dict[str, Any] = {
            "type": "message",
            "id": extra.pop("id", str(uuid.uuid4())),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "serviceUrl": f"{self.server_url}/",
            "channelId": "msteams",
            "from": {
                "id": f"29:{user['id']}", "aadObjectId": user["id"], "name": user["displayName"],
            },
            "conversation": {
                "id": conversation,
                "conversationType": "personal" if kind == "personal" else "channel",
                "tenantId": TENANT_ID,
            },
            "recipient": {"id": f"28:{self.bot_app_id}", "name": "NexusOps"},
            "channelData": {"tenant": {"id": TENANT_ID}},
            **extra,
        }  # fmt: skip
        if kind != "personal":
            activity["channelData"].update({
                "team": {"id": channel["team"]},
                "channel": {"id": channel["id"], "name": channel["displayName"]},
            })  # fmt: skip
        return activity, ""

    def _deliver(self, activity: dict[str, Any]) -> Response:
        token = self.identity.sign_activity(
            audience=self.bot_app_id, service_url=activity["serviceUrl"]
        )
        request = urllib.request.Request(
            self.bot_endpoint,
            data=json.dumps(activity).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            return Response(502, {"ok": False, "error": f"bot unreachable: {exc}"})
        with self.lock:
            self.delivered.append({"activity": activity, "status": status})
        return Response(200, {"ok": True, "status": status, "activity": activity})


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, rate_window: float | None = 1.0
) -> tuple[StandinServer, str]:
    """A Teams stand-in, not yet serving; its base URL stands for all four Microsoft hosts."""
    app = TeamsStandin(rate_window=rate_window)
    server = StandinServer((host, port), app)
    app.server_url = server.base_url
    return server, server.base_url


if __name__ == "__main__":
    server, _ = make_server(demo.HOST, demo.PORTS["teams"])
    serve_until_interrupted(server, "Teams")
