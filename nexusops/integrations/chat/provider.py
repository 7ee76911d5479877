"""The provider contract (see the package docstring) and the neutral values it speaks in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

# ChatInvites.failed codes every provider uses for the same meaning.
USER_NOT_FOUND = "user_not_found"  # the chat has no such user: the id on the profile is wrong


@dataclass(frozen=True)
class ChatChannel:
    """An incident's channel at one provider: its id (API calls), name (people) and link."""

    id: str
    name: str
    url: str = ""
    created: bool = True  # False when an existing channel of that name was reused


@dataclass(frozen=True)
class ChatButton:
    """One button under the summary. ``action`` is what a press asks for: ``acknowledge`` or
    ``resolve`` (sent back with ``value``, the incident number), or ``open`` (a link to
    ``url``, nothing comes back)."""

    action: str
    label: str
    value: str
    style: str = ""  # "primary" for the one the incident needs next
    url: str = ""


@dataclass(frozen=True)
class ChatSummary:
    """The pinned summary of an incident, in plain words; each provider formats it."""

    number: str
    title: str
    severity: str  # P0..P3
    severity_definition: str
    status: str  # the status's code, e.g. "triggered"
    status_label: str  # what people read, e.g. "Triggered"
    commander: str
    services: str
    summary: str
    flags: tuple[str, ...]
    url: str
    buttons: tuple[ChatButton, ...]


@dataclass(frozen=True)
class ChatLine:
    """One timeline fact mirrored into the channel: ``kind`` is the timeline event's kind."""

    kind: str
    actor: str
    message: str


@dataclass(frozen=True)
class ChatInvites:
    """Who ``invite`` added, who was a member already, and who the chat refused, with its code."""

    invited: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)  # user id -> the vendor's error code


@runtime_checkable
class ChatProvider(Protocol):
    """What incidents need from a chat system. Ids are the vendor's strings, passed through."""

    name: ClassVar[str]  # "slack": the NEXUSOPS_CHAT word, outbox target prefix and key part
    label: ClassVar[str]  # "Slack": what people read ("Invited Ann to #x in Slack.")

    # --- the channel ---------------------------------------------------------------------------
    def channel_name(self, number: str) -> str:
        """``INC-20261126-001`` -> ``incident-20261126-001`` in the vendor's naming rules."""
        ...

    def channel_create(self, name: str) -> ChatChannel:
        """Create the channel, or return the existing one of that name (a retry)."""
        ...

    def channel_url(self, channel_id: str, name: str) -> str:
        """A link people can open (the command page lists it)."""
        ...

    def header_set(self, channel_id: str, summary: ChatSummary) -> None:
        """The one-line topic / header: severity, status, commander, title."""
        ...

    def purpose_set(self, channel_id: str, summary: ChatSummary) -> None:
        """The channel's purpose / description, set once: the number, title and console link."""
        ...

    def invite(self, channel_id: str, user_ids: Iterable[str]) -> ChatInvites:
        """Make these users members; a member already is ``already``, never an error."""
        ...

    def user_for_email(self, email: str) -> str | None:
        """The chat's user id for an e-mail, or None when it has none (linking people)."""
        ...

    def archive(self, channel_id: str) -> None:
        """Archive the channel (archived already is done)."""
        ...

    # --- messages ------------------------------------------------------------------------------
    def summary_post(self, channel_id: str, summary: ChatSummary, *, idempotency_key: str) -> str:
        """Post the summary with its buttons; returns the message id (pinned next)."""
        ...

    def summary_update(self, channel_id: str, message_id: str, summary: ChatSummary) -> None:
        """Edit the pinned summary in place."""
        ...

    def pin(self, channel_id: str, message_id: str) -> None:
        """Pin the message (pinned already is done)."""
        ...

    def post(self, channel_id: str, text: str, *, idempotency_key: str) -> str:
        """Post ``text`` (made by ``line_text``/``announcement_text``); returns the message id.
        The key travels with the post, so ``message_find`` finds it after a crash."""
        ...

    def message_find(self, channel_id: str, idempotency_key: str) -> str | None:
        """The id of an earlier post carrying this key, or None."""
        ...

    # --- words (no I/O) ------------------------------------------------------------------------
    @staticmethod
    def line_text(line: ChatLine) -> str:
        """A mirrored timeline line in the vendor's markup, user text escaped."""
        ...

    @staticmethod
    def announcement_text(summary: ChatSummary) -> str:
        """The "declared" line for a stakeholder channel."""
        ...

    # --- configuration -------------------------------------------------------------------------
    @classmethod
    def default(cls, **options: Any) -> ChatProvider:
        """One built from settings (raises ``NotConfigured`` when it is not)."""
        ...

    @classmethod
    def enabled(cls) -> bool:
        """Whether settings configure it (URL and credentials)."""
        ...

    off_reason: ClassVar[str]  # why it is off: "Slack is not configured (SLACK_API_URL, …)"
