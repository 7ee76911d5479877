"""The Slack adapter: the only module that imports ``slack_sdk``, and only when a client is
built or a reply sent: every process loads this module at start-up, most never call Slack.

It speaks to ``SLACK_API_URL`` (``https://slack.com/api/`` in production, the stand-in in
development and tests) with ``SLACK_BOT_TOKEN``, and turns every ``slack_sdk`` failure into
:mod:`nexusops.integrations.errors`: HTTP 429 -> :class:`RateLimited` (with Slack's
``Retry-After``), 5xx/timeouts -> :class:`VendorUnavailable`, ``ok: false`` ->
:class:`VendorRejected` (``code`` is Slack's error string). A single 429 is retried in
place by slack_sdk's ``RateLimitErrorRetryHandler``; after that the Celery task backs off.

To add an operation, add a method that calls ``self._call("<api.method>", **arguments)`` and
returns plain values (ids, ts), never a ``SlackResponse``. If some Slack error means "already
done" for that operation, pass it in ``ok_errors`` so a retried task stays idempotent::

    def unarchive(self, channel: str) -> None:
        self._call("conversations.unarchive", ok_errors={"not_archived"}, channel=channel)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

from .errors import PER_USER_ERRORS, VENDOR, convert_api_error, refused_users
from .messages import channel_name_with_suffix

logger = logging.getLogger(__name__)
MAX_NAME_SUFFIX = 9
METADATA_EVENT = "nexusops_delivery"
# Slack takes up to 1000 ids per conversations.invite; smaller batches keep one bad id cheap.
INVITE_BATCH = 100
# Per-user invite errors that mean "this person is already where we want them".
ALREADY_MEMBER = "already_in_channel"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    created: bool  # False when an existing channel of that name was reused


@dataclass(frozen=True)
class InviteResult:
    """Who ``SlackClient.invite`` added, who was there already, and who Slack refused, why."""

    invited: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)  # user id -> Slack's error code

    def as_dict(self) -> dict[str, Any]:
        return {"invited": list(self.invited), "already": list(self.already), "failed": self.failed}


class SlackClient:
    """Chat operations on one Slack workspace, as one bot."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        rate_limit_retries: int = 1,
    ) -> None:
        if not base_url or not token:
            raise NotConfigured("SLACK_API_URL and SLACK_BOT_TOKEN must be set", vendor=VENDOR)
        from slack_sdk import WebClient
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
        )

        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._web = WebClient(
            base_url=self.base_url,
            token=token,
            timeout=timeout,  # type: ignore[arg-type]  # urllib accepts a float
            retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
                ConnectionErrorRetryHandler(max_retry_count=1),
            ],
        )

    @classmethod
    def default(cls, **options: Any) -> SlackClient:
        """The client configured by settings; raises :class:`NotConfigured` when unset."""
        return cls(
            getattr(settings, "SLACK_API_URL", ""),
            getattr(settings, "SLACK_BOT_TOKEN", ""),
            **options,
        )

    @classmethod
    def default_or_none(cls, **options: Any) -> SlackClient | None:
        """The client configured by settings, or None when Slack is off."""
        try:
            return cls.default(**options)
        except NotConfigured:
            return None

    # --- operations -----------------------------------------------------------------------
    def auth_test(self) -> dict[str, Any]:
        """Who the token belongs to (a cheap health check)."""
        return self._call("auth.test")

    def channel_create(self, name: str, *, is_private: bool = False) -> Channel:
        """Create channel ``name``; if the name is taken, reuse or suffix it.

        A retried task finds its own channel from the first attempt: an unarchived channel of
        that name is reused (``created=False``). An archived one, or one the bot cannot see,
        keeps its name, so the new channel becomes ``name-2``, ``name-3``...
        """
        candidates = [name] + [
            channel_name_with_suffix(name, n) for n in range(2, MAX_NAME_SUFFIX + 1)
        ]
        for candidate in candidates:
            try:
                data = self._call("conversations.create", name=candidate, is_private=is_private)
            except VendorRejected as exc:
                if exc.code != "name_taken":
                    raise
                existing = self.channel_find(candidate)
                if existing is not None:
                    return Channel(id=existing["id"], name=existing["name"], created=False)
                continue
            return Channel(id=data["channel"]["id"], name=data["channel"]["name"], created=True)
        raise VendorRejected(
            f"channel names {name!r} to {candidates[-1]!r} are all taken",
            vendor=VENDOR,
            code="name_taken",
        )

    def channel_find(self, name: str) -> dict[str, Any] | None:
        """The unarchived channel called ``name`` the bot can see, or None."""
        cursor = ""
        while True:
            data = self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor or None,
            )
            for channel in data.get("channels", []):
                if channel.get("name") == name and not channel.get("is_archived"):
                    return channel
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None

    def set_topic(self, channel: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=topic[:250])

    def set_purpose(self, channel: str, purpose: str) -> None:
        self._call("conversations.setPurpose", channel=channel, purpose=purpose[:250])

    def channel_members(self, channel: str) -> set[str]:
        """Every member's user id (the bot included), across pages."""
        members: set[str] = set()
        cursor = ""
        while True:
            data = self._call(
                "conversations.members", channel=channel, limit=200, cursor=cursor or None
            )
            members.update(data.get("members", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return members

    def invite(self, channel: str, user_ids: Iterable[str]) -> InviteResult:
        """Make ``user_ids`` members; returns who was added, already there, or refused.

        ``conversations.invite`` is all or nothing: one unknown or already-present id fails
        the whole batch and adds nobody. So members are read first and only the missing are
        invited; when Slack still refuses some (its ``errors`` name them, or the batch is one
        person), those are set aside with Slack's reason and the rest are invited again.
        A refusal of the channel itself (``channel_not_found``, ``not_in_channel``...) raises.
        """
        wanted = list(dict.fromkeys(u for u in user_ids if u))
        if not wanted:
            return InviteResult()
        members = self.channel_members(channel)
        already = [u for u in wanted if u in members]
        todo = [u for u in wanted if u not in members]
        invited: list[str] = []
        failed: dict[str, str] = {}
        batches = [todo[i : i + INVITE_BATCH] for i in range(0, len(todo), INVITE_BATCH)]
        while batches:
            batch = batches.pop(0)
            try:
                self._call("conversations.invite", channel=channel, users=",".join(batch))
            except VendorRejected as exc:
                refused = refused_users(exc, batch)
                if not refused and len(batch) > 1 and exc.code in PER_USER_ERRORS:
                    # Slack did not say who: ask person by person.
                    batches[:0] = [[u] for u in batch]
                    continue
                if not refused:
                    raise
                for user, code in refused.items():
                    if code == ALREADY_MEMBER:
                        already.append(user)  # joined meanwhile: that is what we wanted
                    else:
                        failed[user] = code
                rest = [u for u in batch if u not in refused]
                if rest:
                    batches.insert(0, rest)
                continue
            invited.extend(batch)
        if failed:
            logger.warning("slack invite to %s: refused %s", channel, failed)
        return InviteResult(tuple(invited), tuple(already), failed)

    def user_lookup_by_email(self, email: str) -> str | None:
        """The Slack user id registered with ``email``, or None when the workspace has none."""
        if not email:
            return None
        try:
            data = self._call("users.lookupByEmail", email=email)
        except VendorRejected as exc:
            if exc.code == "users_not_found":
                return None
            raise
        return str(data["user"]["id"])

    def user_email(self, user_id: str) -> str | None:
        """The e-mail on a Slack user's profile (``users:read.email``), or None if unknown."""
        try:
            data = self._call("users.info", user=user_id)
        except VendorRejected as exc:
            if exc.code == "user_not_found":
                return None
            raise
        user = data.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):
            return None
        return (user.get("profile") or {}).get("email") or None

    def join(self, channel: str) -> None:
        """Join a public channel (a bot must be a member to post or pin there)."""
        self._call("conversations.join", channel=channel)

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        """Post a message; returns its ``ts``. ``text`` is the notification/fallback text.

        Both are sent as they are: build them with :mod:`.messages`, which escapes user input.
        ``idempotency_key`` rides along as message metadata, so :meth:`message_find` can tell
        later whether an attempt that died mid-call did reach Slack.
        """
        metadata = (
            {"event_type": METADATA_EVENT, "event_payload": {"key": idempotency_key}}
            if idempotency_key
            else None
        )
        arguments: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "blocks": list(blocks) if blocks else None,
            "metadata": metadata,
        }
        try:
            data = self._call("chat.postMessage", **arguments)
        except VendorRejected as exc:
            if exc.code != "not_in_channel":
                raise
            # A public channel someone else made (an announcements channel): join, then post.
            self.join(channel)
            data = self._call("chat.postMessage", **arguments)
        return str(data["ts"])

    def message_find(self, channel: str, idempotency_key: str, *, limit: int = 200) -> str | None:
        """The ``ts`` of a recent message posted with ``idempotency_key``, or ``None``."""
        data = self._call(
            "conversations.history",
            channel=channel,
            limit=limit,
            include_all_metadata=True,
        )
        for message in data.get("messages", []):
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT
                and (meta.get("event_payload") or {}).get("key") == idempotency_key
            ):
                return str(message["ts"])
        return None

    def update_message(
        self, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]] | None = None
    ) -> None:
        self._call(
            "chat.update",
            channel=channel,
            ts=ts,
            text=text,
            blocks=list(blocks) if blocks is not None else None,
        )

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only ``user`` sees, in ``channel``; Slack keeps no copy (no ``ts`` to find)."""
        self._call("chat.postEphemeral", channel=channel, user=user, text=text)

    def pin(self, channel: str, ts: str) -> None:
        self._call("pins.add", ok_errors={"already_pinned"}, channel=channel, timestamp=ts)

    def archive(self, channel: str) -> None:
        self._call("conversations.archive", ok_errors={"already_archived"}, channel=channel)

    # --- the edge -------------------------------------------------------------------------
    def _call(
        self, api_method: str, *, ok_errors: Iterable[str] = (), **arguments: Any
    ) -> dict[str, Any]:
        """Call one Web API method; return its JSON as a dict or raise one of our errors."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        arguments = {k: v for k, v in arguments.items() if v is not None}
        try:
            # Every Web API method accepts POST; JSON only when an argument is structured.
            if any(isinstance(v, list | dict) for v in arguments.values()):
                response = self._web.api_call(api_method, json=arguments)
            else:
                response = self._web.api_call(api_method, params=arguments)
            return dict(response.data)  # type: ignore[arg-type]
        except SlackApiError as exc:
            error = convert_api_error(api_method, exc)
            if isinstance(error, VendorRejected) and error.code in set(ok_errors):
                logger.info("slack %s: %s, treated as done", api_method, error.code)
                return {"ok": True, "already": error.code}
            raise error from exc
        except (OSError, SlackClientError) as exc:  # timeouts, refused connections, bad URL
            raise VendorUnavailable(
                f"{api_method} failed: {type(exc).__name__}: {exc}", vendor=VENDOR
            ) from exc


def response_url_post(url: str, body: dict[str, Any], *, timeout: int = 5) -> None:
    """POST ``body`` to an interaction's ``response_url`` (a reply Slack shows the user).

    The caller checks the URL is Slack's (it came from outside). 5xx, 429, timeouts and
    refused connections raise :class:`VendorUnavailable` (retryable; the task tries again
    once, not slack_sdk), other 4xx :class:`VendorRejected`.
    """
    from slack_sdk.errors import SlackClientError
    from slack_sdk.webhook import WebhookClient

    try:
        answer = WebhookClient(url, timeout=timeout, retry_handlers=[]).send_dict(body)
    except (OSError, SlackClientError) as exc:
        raise VendorUnavailable(f"response_url: {type(exc).__name__}", vendor=VENDOR) from exc
    if answer.status_code >= 500 or answer.status_code == 429:
        raise VendorUnavailable(f"response_url answered {answer.status_code}", vendor=VENDOR)
    if answer.status_code >= 400:
        raise VendorRejected(
            f"response_url answered {answer.status_code}", vendor=VENDOR, status=answer.status_code
        )
