"""The Microsoft Teams adapter: Graph for channels and people, the Bot Connector for messages.

A small typed client over ``requests`` (the only module here that sends to Microsoft). Why not
Microsoft's own libraries: ``msal`` insists on an ``https`` authority with instance and
OpenID discovery, ``msgraph-sdk`` is async over Kiota with a large dependency tree, and the
Python Bot Framework SDK (``botbuilder-*``) is archived and pins old ``aiohttp``; the three
calls we need (client-credentials token, a handful of Graph and Connector requests) are plain
HTTPS with a bearer token. Every URL is configurable, so the same code talks to Microsoft in
production and to :mod:`nexusops.standins.teams` in development and tests.

One Entra ID app registration is both the Graph app and the bot (``TEAMS_APP_ID``):

* Graph (``TEAMS_GRAPH_URL``, tenant ``TEAMS_TENANT_ID``): create a channel in the team
  ``TEAMS_TEAM_ID``, set its description (the topic), add people to the team, archive it;
  read a user's e-mail by AAD id.
* Bot Connector (``TEAMS_SERVICE_URL``, token from tenant ``TEAMS_BOT_TENANT``): post a
  message or an Adaptive Card into a channel (a new post) or a thread, and replace a card in
  place (the pinned summary).

Failures become :mod:`nexusops.integrations.errors`: 429 -> :class:`RateLimited` (with
``Retry-After``), 5xx and network errors -> :class:`VendorUnavailable`, other 4xx ->
:class:`VendorRejected` with Graph's error code. A 401 drops the cached token and tries once
more (Microsoft revokes tokens early when consent changes).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings

from nexusops.integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from .cards import card_key

if TYPE_CHECKING:
    import requests

VENDOR = "teams"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
BOT_SCOPE = "https://api.botframework.com/.default"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_NAME_SUFFIX = 9
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


@dataclass(frozen=True)
class TeamsConfig:
    login_url: str
    graph_url: str
    service_url: str
    tenant_id: str
    bot_tenant: str
    app_id: str
    app_password: str
    team_id: str

    @classmethod
    def from_settings(cls) -> TeamsConfig:
        return cls(
            login_url=getattr(settings, "TEAMS_LOGIN_URL", ""),
            graph_url=getattr(settings, "TEAMS_GRAPH_URL", ""),
            service_url=getattr(settings, "TEAMS_SERVICE_URL", ""),
            tenant_id=getattr(settings, "TEAMS_TENANT_ID", ""),
            bot_tenant=getattr(settings, "TEAMS_BOT_TENANT", "") or "botframework.com",
            app_id=getattr(settings, "TEAMS_APP_ID", ""),
            app_password=getattr(settings, "TEAMS_APP_PASSWORD", ""),
            team_id=getattr(settings, "TEAMS_TEAM_ID", ""),
        )


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    web_url: str
    created: bool  # False when a retried create found the channel of its first attempt


@dataclass(frozen=True)
class InviteResult:
    invited: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)  # user ref -> Graph's error code

    def as_dict(self) -> dict[str, Any]:
        return {"invited": list(self.invited), "already": list(self.already), "failed": self.failed}


class TeamsClient:
    """Teams operations in one team, as one app (Graph) and bot (Connector)."""

    def __init__(self, config: TeamsConfig, *, timeout: float = 10.0) -> None:
        required = (config.login_url, config.graph_url, config.service_url, config.tenant_id)
        if not all(required) or not (config.app_id and config.app_password and config.team_id):
            raise NotConfigured(
                "TEAMS_TENANT_ID, TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TEAM_ID must be set",
                vendor=VENDOR,
            )
        self.config = config
        self.timeout = timeout
        import requests

        self._http = requests.Session()

    @classmethod
    def default(cls, **options: Any) -> TeamsClient:
        return cls(TeamsConfig.from_settings(), **options)

    @classmethod
    def default_or_none(cls, **options: Any) -> TeamsClient | None:
        try:
            return cls.default(**options)
        except NotConfigured:
            return None

    # --- Graph ------------------------------------------------------------------------------
    def channel_create(self, name: str, *, description: str = "") -> Channel:
        """Create channel ``name`` in the team; a retry finds its own channel again.

        Graph refuses a taken name (``NameAlreadyExists``). A live channel of that name is
        reused (``created=False``: the first attempt made it); an archived one keeps its name,
        so the new channel becomes ``name-2``, ``name-3``...
        """
        team = quote(self.config.team_id, safe="")
        for candidate in [name] + [f"{name}-{n}" for n in range(2, MAX_NAME_SUFFIX + 1)]:
            body = {"displayName": candidate, "description": description}
            try:
                made = self._graph("POST", f"/teams/{team}/channels", json=body)
            except VendorRejected as exc:
                if exc.code != "NameAlreadyExists":
                    raise
                existing = self._channel_named(candidate)
                if existing is not None and not existing.get("isArchived"):
                    return Channel(existing["id"], candidate, existing.get("webUrl", ""), False)
                continue
            return Channel(made["id"], made["displayName"], made.get("webUrl", ""), True)
        raise VendorRejected(f"every name {name}..-{MAX_NAME_SUFFIX} is taken", vendor=VENDOR)

    def _channel_named(self, name: str) -> dict[str, Any] | None:
        escaped = name.replace("'", "''")
        team = quote(self.config.team_id, safe="")
        found = self._graph(
            "GET", f"/teams/{team}/channels", params={"$filter": f"displayName eq '{escaped}'"}
        )
        return next(iter(found.get("value") or []), None)

    def channel_name(self, channel_id: str) -> str:
        """The channel's display name; "" when it is not in the team."""
        try:
            return str(self._graph("GET", self._channel_path(channel_id)).get("displayName", ""))
        except VendorRejected as exc:
            if exc.status == 404:
                return ""
            raise

    def channel_describe(self, channel_id: str, description: str) -> None:
        """The channel's description: Teams' nearest thing to a topic or header."""
        self._graph("PATCH", self._channel_path(channel_id), json={"description": description})

    def channel_archive(self, channel_id: str) -> None:
        try:
            self._graph("POST", f"{self._channel_path(channel_id)}/archive")
        except VendorRejected as exc:
            if "already archived" not in exc.message:
                raise

    def members_add(self, user_refs: list[str]) -> InviteResult:
        """Add people (AAD ids or e-mails) to the team, so they see its incident channels."""
        invited, already, failed = [], [], {}
        team = quote(self.config.team_id, safe="")
        for ref in dict.fromkeys(user_refs):
            body = {
                "@odata.type": "#microsoft.graph.aadUserConversationMember",
                "roles": [],
                "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{ref}')",
            }
            try:
                self._graph("POST", f"/teams/{team}/members", json=body)
            except VendorRejected as exc:
                if exc.status == 409:
                    already.append(ref)
                elif exc.status == 404:
                    failed[ref] = exc.code or "NotFound"
                else:
                    raise
            else:
                invited.append(ref)
        return InviteResult(tuple(invited), tuple(already), failed)

    def message_find(self, channel_id: str, key: str, *, recent: int = 50) -> str | None:
        """The id of one of the channel's recent posts whose card carries ``key``, or None.

        The Bot Connector cannot read a channel; Graph can (``ChannelMessage.Read.All``). Our
        cards carry the outbox key (:func:`.cards.with_key`), so a retried post finds its
        first attempt instead of saying the same thing twice.
        """
        found = self._graph(
            "GET", f"{self._channel_path(channel_id)}/messages", params={"$top": str(recent)}
        )
        for message in found.get("value") or []:
            for attachment in message.get("attachments") or []:
                if card_key(attachment.get("content")) == key:
                    return str(message["id"])
        return None

    def user_id(self, email: str) -> str | None:
        """The Entra ID object id of the person with this e-mail (or UPN), or None."""
        try:
            user = self._graph("GET", f"/users/{quote(email, safe='@')}")
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        return str(user.get("id") or "") or None

    def user_email(self, aad_id: str) -> str:
        """The e-mail (or UPN) on a person's Entra ID account; "" when Graph does not know them."""
        try:
            user = self._graph("GET", f"/users/{quote(aad_id, safe='')}")
        except VendorRejected as exc:
            if exc.status == 404:
                return ""
            raise
        return str(user.get("mail") or user.get("userPrincipalName") or "")

    def _channel_path(self, channel_id: str) -> str:
        team = quote(self.config.team_id, safe="")
        return f"/teams/{team}/channels/{quote(channel_id, safe='')}"

    # --- Bot Connector ----------------------------------------------------------------------
    def post(
        self,
        conversation: str,
        *,
        text: str = "",
        card: dict[str, Any] | None = None,
        reply_to: str = "",
    ) -> str:
        """Post ``text`` and/or an Adaptive Card; a new post, or a reply in ``reply_to``'s thread.

        Returns the activity id, which :meth:`update` takes.
        """
        target = f"{conversation};messageid={reply_to}" if reply_to else conversation
        answer = self._connector(
            "POST",
            f"/v3/conversations/{quote(target, safe='')}/activities",
            _activity(text, card),
        )
        return str(answer["id"])

    def update(
        self, conversation: str, activity_id: str, *, text: str = "", card: dict | None = None
    ) -> None:
        """Replace a message the bot posted (the summary card is kept current this way)."""
        path = f"/v3/conversations/{quote(conversation, safe='')}/activities/{activity_id}"
        self._connector("PUT", path, _activity(text, card))

    # --- HTTP -------------------------------------------------------------------------------
    def _graph(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.config.graph_url.rstrip("/") + path
        return self._send(method, url, (self.config.tenant_id, GRAPH_SCOPE), **kwargs)

    def _connector(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.config.service_url.rstrip("/") + path
        return self._send(method, url, (self.config.bot_tenant, BOT_SCOPE), json=body)

    def _send(
        self, method: str, url: str, audience: tuple[str, str], **kwargs: Any
    ) -> dict[str, Any]:
        import requests

        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token(*audience)}"}
            try:
                response = self._http.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                raise VendorUnavailable(f"{method} {url}: {exc}", vendor=VENDOR) from exc
            if response.status_code == 401 and attempt == 1:
                self._forget_token(*audience)
                continue
            return _answer(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_key(self, tenant: str, scope: str) -> tuple[str, str, str]:
        return (self.config.login_url, tenant, f"{self.config.app_id} {scope}")

    def _forget_token(self, tenant: str, scope: str) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key(tenant, scope), None)

    def _token(self, tenant: str, scope: str) -> str:
        """A client-credentials access token, cached until five minutes before it expires."""
        key = self._token_key(tenant, scope)
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and cached[1] > time.time():
            return cached[0]
        url = f"{self.config.login_url.rstrip('/')}/{quote(tenant, safe='')}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.app_id,
            "client_secret": self.config.app_password,
            "scope": scope,
        }
        import requests

        try:
            response = self._http.post(url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise VendorUnavailable(f"token endpoint: {exc}", vendor=VENDOR) from exc
        if response.status_code != 200:
            body = _json(response)
            error = str(body.get("error") or response.status_code)
            detail = str(body.get("error_description") or "")[:200]
            if response.status_code == 429:
                raise RateLimited("token endpoint: too many requests", vendor=VENDOR)
            if response.status_code >= 500:
                raise VendorUnavailable(f"token endpoint: {error}", vendor=VENDOR)
            raise VendorRejected(
                f"token refused: {error} {detail}", vendor=VENDOR, code=error, status=401
            )
        body = _json(response)
        token = str(body["access_token"])
        with _tokens_lock:
            _tokens[key] = (token, time.time() + int(body.get("expires_in", 300)) - 300)
        return token


def _activity(text: str, card: dict[str, Any] | None) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "text": text, "textFormat": "markdown"}
    if card is not None:
        activity["attachments"] = [{"contentType": CARD_TYPE, "content": card}]
    return activity


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _answer(response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    if status < 300:
        return _json(response)
    body = _json(response)
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or status)
    message = str(error.get("message") or response.reason or status)
    if status == 429:
        retry = response.headers.get("Retry-After")
        raise RateLimited(
            message,
            retry_after=float(retry) if retry and retry.replace(".", "", 1).isdigit() else None,
            vendor=VENDOR,
            code=code,
        )
    if status >= 500:
        raise VendorUnavailable(f"{status} {message}", vendor=VENDOR, code=code, status=status)
    raise VendorRejected(message, vendor=VENDOR, code=code, status=status)


__all__ = ["Channel", "IntegrationError", "InviteResult", "TeamsClient", "TeamsConfig"]
