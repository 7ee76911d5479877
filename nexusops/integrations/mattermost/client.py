"""A small typed client for the Mattermost REST API v4, over ``requests``.

Why not a Mattermost library: ``mattermostdriver`` (the one most used) has had no release
since January 2022 and wraps every endpoint as untyped dicts without turning errors or rate
limits into anything; the console calls eleven endpoints, so a client of its own with our
error types (``nexusops.integrations.errors``) is smaller than the adapter around a library
would be. This module is the only place that speaks Mattermost's HTTP.

Mattermost answers errors as JSON ``{"id": "<app_error id>", "message", "status_code"}``;
``id`` becomes the error's ``code``. 429 carries ``X-RateLimit-Reset`` (seconds until the
window resets), which becomes ``retry_after``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings

from nexusops.integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

if TYPE_CHECKING:
    import requests

VENDOR = "mattermost"
NAME_TAKEN = "store.sql_channel.save_channel.exists.app_error"
KEY_PROP = "nexusops_key"  # a post's idempotency key rides in its props


@dataclass(frozen=True)
class MattermostChannel:
    id: str
    name: str
    team_id: str
    created: bool


@dataclass(frozen=True)
class MemberResult:
    invited: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)


class MattermostClient:
    """Channel and post operations in one Mattermost team, as one bot account."""

    def __init__(self, base_url: str, token: str, team_id: str, *, timeout: float = 10.0) -> None:
        if not base_url or not token or not team_id:
            raise NotConfigured(
                "MATTERMOST_URL, MATTERMOST_TOKEN and MATTERMOST_TEAM_ID must be set",
                vendor=VENDOR,
            )
        self.base_url = base_url.rstrip("/")
        self.team_id = team_id
        self.timeout = timeout
        import requests

        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def default(cls, **options: Any) -> MattermostClient:
        return cls(
            getattr(settings, "MATTERMOST_URL", ""),
            getattr(settings, "MATTERMOST_TOKEN", ""),
            getattr(settings, "MATTERMOST_TEAM_ID", ""),
            **options,
        )

    # --- channels ------------------------------------------------------------------------------
    def channel_create(self, name: str, display_name: str) -> MattermostChannel:
        """Create a public channel in the team, or return the existing one of that name."""
        body = {"team_id": self.team_id, "name": name, "display_name": display_name, "type": "O"}
        try:
            data = self._call("POST", "/channels", json=body)
            created = True
        except VendorRejected as exc:
            if exc.code != NAME_TAKEN:
                raise
            data = self._call(
                "GET",
                f"/teams/{self.team_id}/channels/name/{name}",
                params={"include_deleted": "true"},
            )
            created = False
        return MattermostChannel(data["id"], data["name"], data["team_id"], created)

    def channel_patch(self, channel_id: str, **fields: str) -> None:
        self._call("PUT", f"/channels/{channel_id}/patch", json=fields)

    def channel_members(self, channel_id: str) -> set[str]:
        found: set[str] = set()
        page = 0
        while True:
            batch = self._call(
                "GET", f"/channels/{channel_id}/members", params={"page": page, "per_page": 200}
            )
            found.update(m["user_id"] for m in batch)
            if len(batch) < 200:
                return found
            page += 1

    def channel_add(self, channel_id: str, user_ids: Iterable[str]) -> MemberResult:
        """Add each user not yet a member, one call each so one bad id costs only itself."""
        members = self.channel_members(channel_id)
        invited, already, failed = [], [], {}
        for user_id in dict.fromkeys(user_ids):
            if user_id in members:
                already.append(user_id)
                continue
            try:
                self._call("POST", f"/channels/{channel_id}/members", json={"user_id": user_id})
            except VendorRejected as exc:
                failed[user_id] = "user_not_found" if exc.status == 404 else exc.code
                continue
            invited.append(user_id)
        return MemberResult(tuple(invited), tuple(already), failed)

    def channel_archive(self, channel_id: str) -> None:
        try:
            self._call("DELETE", f"/channels/{channel_id}")
        except VendorRejected as exc:
            if "deleted" not in exc.code:  # archived already
                raise

    def channel_url(self, name: str) -> str:
        team = self._call("GET", f"/teams/{self.team_id}")
        return f"{self.base_url}/{team['name']}/channels/{name}"

    # --- posts ---------------------------------------------------------------------------------
    def post_create(
        self,
        channel_id: str,
        message: str,
        *,
        props: dict[str, Any] | None = None,
        idempotency_key: str = "",
    ) -> str:
        props = dict(props or {})
        if idempotency_key:
            props[KEY_PROP] = idempotency_key
        data = self._call(
            "POST", "/posts", json={"channel_id": channel_id, "message": message, "props": props}
        )
        return str(data["id"])

    def post_patch(self, post_id: str, message: str, props: dict[str, Any]) -> None:
        self._call("PUT", f"/posts/{post_id}/patch", json={"message": message, "props": props})

    def post_pin(self, post_id: str) -> None:
        self._call("POST", f"/posts/{post_id}/pin")

    def post_find(
        self, channel_id: str, idempotency_key: str, *, per_page: int = 200
    ) -> str | None:
        data = self._call("GET", f"/channels/{channel_id}/posts", params={"per_page": per_page})
        for post_id in data.get("order", []):
            post = data["posts"][post_id]
            if (post.get("props") or {}).get(KEY_PROP) == idempotency_key:
                return str(post_id)
        return None

    def pinned_posts(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's pinned posts, newest first (``GET /channels/{id}/pinned``)."""
        data = self._call("GET", f"/channels/{channel_id}/pinned")
        return [data["posts"][post_id] for post_id in data.get("order", [])]

    def me(self) -> str:
        """The bot's own user id (its posts are never read back in as people's)."""
        return str(self._call("GET", "/users/me")["id"])

    def command_respond(self, response_url: str, text: str, *, response_type: str) -> None:
        """A slash command's later answer, POSTed to its ``response_url`` (a command webhook
        on this server, whose id is its credential: no token is sent)."""
        import requests

        try:
            answer = requests.post(
                response_url,
                json={"response_type": response_type, "text": text},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise VendorUnavailable(
                f"POST response_url failed: {type(exc).__name__}", vendor=VENDOR
            ) from exc
        if answer.status_code >= 400:
            raise self._error(answer, "POST response_url")

    def user_by_email(self, email: str) -> str | None:
        try:
            return str(self._call("GET", f"/users/email/{email}")["id"])
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def user_email(self, user_id: str) -> str | None:
        """The e-mail on a Mattermost user (who sent a command), or None when unknown."""
        try:
            return str(self._call("GET", f"/users/{user_id}").get("email") or "") or None
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    # --- the edge ------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        url = f"{self.base_url}/api/v4{path}"
        try:
            answer = self._http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise VendorUnavailable(
                f"{method} {path} failed: {type(exc).__name__}", vendor=VENDOR
            ) from exc
        if answer.status_code < 400:
            return answer.json() if answer.content else {}
        raise self._error(answer, f"{method} {path}")

    @staticmethod
    def _error(answer: requests.Response, what: str) -> IntegrationError:
        """Mattermost's error answer as ours."""
        try:
            error = answer.json()
        except ValueError:
            error = {}
        code = str(error.get("id") or "") if isinstance(error, dict) else ""
        text = f"{what} answered {answer.status_code} {code}".strip()
        if answer.status_code == 429:
            reset = answer.headers.get("X-RateLimit-Reset")
            retry = float(reset) if reset and reset.replace(".", "", 1).isdigit() else None
            return RateLimited(text, retry_after=retry, vendor=VENDOR, code=code)
        if answer.status_code >= 500:
            return VendorUnavailable(text, vendor=VENDOR, code=code, status=answer.status_code)
        return VendorRejected(text, vendor=VENDOR, code=code, status=answer.status_code)
