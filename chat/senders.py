"""Chat senders: deliver one outbox row through a chat provider (DESIGN.md rules 3 and 5).

One set of senders per configured provider (``NEXUSOPS_CHAT``), named ``<provider>.<effect>``
(``slack.post``, ``mattermost.post``), so each provider's messages wait, retry and die on
their own. Each is safe to run again after a failure part-way: ``channel_create`` reuses the
channel, ``pin`` of a pinned message is done, invites read the channel's members and invite
only who is missing, and posts carry their outbox key so a retry finds the earlier post.

Everything said in an incident's channel waits for the channel (``after=in_channel_order``)
and for what was said before it, so an outage at declaration costs no attempts and posts
arrive in the order of events.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from incidents.models import Channel, Incident
from incidents.services.checklist import checklist_tick
from incidents.services.timeline import timeline_append
from nexusops.common.errors import RetryableError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import DONE, register_sender, written_here
from nexusops.engine.timers import batch_read
from nexusops.integrations.chat import ChatProvider, chat_provider, chat_providers_configured
from nexusops.integrations.chat.registry import chat_provider_class

from . import render, slack_people
from .channels import channel_of, channel_remember
from .identities import chat_people_invite

SLACK_OFF = "Slack is not configured (SLACK_API_URL, SLACK_BOT_TOKEN)"
EFFECTS = ("channel_setup", "summary_update", "post", "invite", "archive")


def slack_enabled() -> bool:
    return bool(settings.SLACK_API_URL and settings.SLACK_BOT_TOKEN)


def chat_providers() -> tuple[str, ...]:
    """The providers ``NEXUSOPS_CHAT`` turns on, in its order."""
    return chat_providers_configured(settings.NEXUSOPS_CHAT)


def _incident(message: OutboxMessage) -> Incident:
    return (
        Incident.objects.select_related("severity", "commander__profile")
        .prefetch_related("services", "responders__profile")
        .get(pk=message.incident_id)
    )


def _invite(provider: ChatProvider, incident: Incident, channel: str, user_ids: list[str]) -> dict:
    """Make the given chat user ids, or else the commander and responders, channel members.

    People are linked by e-mail when they have no usable id yet; whoever cannot be
    invited (no chat user, or the chat refused) is in the result with the reason, for the
    timeline, and ids the chat says do not exist are flagged on their profiles.
    """
    members = [incident.commander, *incident.responders.all()]
    everyone = list(dict.fromkeys(p for p in members if p is not None))
    if provider.name != "slack":
        # Other chats keep their ids in ChatIdentity: found by e-mail once, refreshed when
        # the chat says an id is unknown.
        people, outcome = chat_people_invite(provider=provider, channel=channel, people=everyone)
    else:
        if user_ids:
            people = slack_people.SlackPeople(ids=slack_people.slack_names(user_ids))
        else:
            people = slack_people.slack_people_resolve(people=everyone, client=provider)
        outcome = provider.invite(channel, list(people.ids))
    if provider.name == "slack":
        slack_people.slack_ids_flag_invalid(refused=outcome.failed)
    label = provider.label
    return {
        "invited": [people.ids[u] for u in outcome.invited],
        "already": [people.ids[u] for u in outcome.already],
        "failed": {people.ids[u]: _refusal(label, u, code) for u, code in outcome.failed.items()},
        "unlinked": people.unlinked,
        f"{provider.name}_ids": {
            "invited": list(outcome.invited),
            "already": list(outcome.already),
            "failed": outcome.failed,
        },
    }


def _refusal(label: str, user_id: str, code: str) -> str:
    if code == "user_not_found":
        return f"{label} has no user {user_id} (user_not_found)"
    return f"{label} refused {user_id} ({code})"


def _record_invites(name: str, message: OutboxMessage, invites: dict, where: str) -> None:
    """Say on the timeline who was invited and who could not be, and why (rule 13)."""
    if not message.incident_id:
        return
    label = chat_provider_class(name).label
    incident = Incident.objects.get(pk=message.incident_id)
    if invites.get("invited"):
        timeline_append(
            incident=incident,
            kind=f"{name}_invited",
            channel=Channel.SYSTEM,
            internal=True,
            data={"message": message.pk, f"{name}_ids": invites[f"{name}_ids"]["invited"]},
            message=f"Invited {', '.join(invites['invited'])} to {where} in {label}.",
        )
    problems = {**invites.get("unlinked", {}), **invites.get("failed", {})}
    if problems:
        said = "; ".join(f"{who}: {why}" for who, why in problems.items())
        # The delivery is done (asking again cannot help), but the Deliveries table shows
        # its last error: there it says who is missing, beside "Sent".
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=f"Could not invite {said}"[:2000]
        )
        timeline_append(
            incident=incident,
            kind=f"{name}_invite_failed",
            channel=Channel.SYSTEM,
            internal=True,
            data={"message": message.pk, "reasons": problems},
            message=f"Could not invite to {label}: {said}.",
        )


class ChannelNotReady(RetryableError):
    """The incident has no channel at this provider and no set-up to wait for (the provider
    was switched on after it was declared); try again shortly."""


CHANNEL_SETUP = "slack.channel_setup"


def in_channel_targets(name: str) -> tuple[str, ...]:
    """What goes into the incident's own channel at ``name``, in the order of events."""
    return tuple(f"{name}.{e}" for e in ("channel_setup", "summary_update", "post", "invite"))


def in_channel_order(
    incident: Incident, payload: dict, *, name: str = "slack"
) -> OutboxMessage | None:
    """The message a new one for the incident's channel waits for: the latest earlier one
    not yet sent (ultimately the channel's set-up). A post to another channel waits for none."""
    if payload.get("channel"):
        return None
    targets = in_channel_targets(name)
    # A timer firing that already wrote one (an invitation, then its mirror) has the newest.
    for message in reversed(written_here(incident)):
        if message.target in targets and not message.payload.get("channel"):
            return message
    # In a timer batch, read for all its incidents at once: no firing of the batch writes
    # another's channel, and what this one wrote is found above.
    return batch_read(
        ("chat.channel_order", name),
        incident.pk,
        functools.partial(_channel_latest, targets=targets),
    )


def _channel_latest(
    incident_ids: list[int], *, targets: tuple[str, ...]
) -> dict[int, OutboxMessage]:
    """Per incident, its newest message for its own channel that is not sent yet."""
    rows = (
        OutboxMessage.objects.filter(incident_id__in=incident_ids, target__in=targets)
        .exclude(state__in=DONE)
        # an announcement elsewhere, or a message scheduled for later, sets no order here
        .exclude(payload__has_key="channel")
        .exclude(state=OutboxMessage.State.DEAD, target__in=targets[1:])
    )
    if len(incident_ids) == 1:
        newest = rows.order_by("-pk").first()
        return {newest.incident_id: newest} if newest else {}
    if connection.features.can_distinct_on_fields:
        rows = rows.order_by("incident_id", "-pk").distinct("incident_id")
    else:
        rows = rows.order_by("-pk")
    latest: dict[int, OutboxMessage] = {}
    for message in rows:
        latest.setdefault(message.incident_id, message)  # type: ignore[arg-type]
    return latest


def _channel(incident: Incident, name: str) -> str:
    found = channel_of(incident, name)
    if found is None:
        label = chat_provider_class(name).label
        raise ChannelNotReady(f"{incident.number} has no {label} channel yet", retry_after=2)
    return found.id


# --- the effects, for provider ``name`` ---------------------------------------------------------
def channel_setup(name: str, message: OutboxMessage) -> dict:
    incident = _incident(message)
    provider = chat_provider(name)
    channel = provider.channel_create(provider.channel_name(incident.number))
    # The summary first: it is what responders joining the channel need to see.
    summary = render.chat_summary(incident)
    ts = provider.message_find(channel.id, message.key) if message.attempts > 1 else None
    if ts is None:
        ts = provider.summary_post(channel.id, summary, idempotency_key=message.key)
    provider.pin(channel.id, ts)
    provider.header_set(channel.id, summary)
    provider.purpose_set(channel.id, summary)
    return {
        "channel_id": channel.id,
        "channel_name": channel.name,
        "channel_url": channel.url,
        "summary_ts": ts,
        "invites": _invite(provider, incident, channel.id, []),
    }


def _remember_channel(name: str, message: OutboxMessage, result: dict) -> None:
    from nexusops.integrations.chat import ChatChannel

    channel = ChatChannel(
        id=result["channel_id"], name=result["channel_name"], url=result.get("channel_url", "")
    )
    channel_remember(
        incident_id=message.incident_id,
        provider=name,
        channel=channel,
        summary_id=result["summary_ts"],
    )
    checklist_tick(Incident.objects.get(pk=message.incident_id), "create_channel")
    _record_invites(name, message, result.get("invites") or {}, f"#{result['channel_name']}")


def summary_update(name: str, message: OutboxMessage) -> dict:
    incident = _incident(message)
    channel = _channel(incident, name)
    ref = channel_of(incident, name)
    summary_id = ref.summary_id if ref else ""
    provider = chat_provider(name)
    summary = render.chat_summary(incident)
    provider.summary_update(channel, summary_id, summary)
    provider.header_set(channel, summary)
    return {"ts": summary_id}


def post(name: str, message: OutboxMessage) -> dict:
    """Post ``payload["text"]`` to ``payload["channel"]``, or to the incident's channel."""
    channel = message.payload.get("channel") or _channel(_incident(message), name)
    ts = chat_provider(name).post(channel, message.payload["text"], idempotency_key=message.key)
    return {"channel": channel, "ts": ts}


def post_find(name: str, message: OutboxMessage) -> dict | None:
    channel = message.payload.get("channel") or _channel(_incident(message), name)
    ts = chat_provider(name).message_find(channel, message.key)
    return {"channel": channel, "ts": ts, "reconciled": True} if ts else None


def invite(name: str, message: OutboxMessage) -> dict:
    """Invite ``payload["users"]`` (chat user ids), or else the commander and responders."""
    incident = _incident(message)
    channel = _channel(incident, name)
    users = message.payload.get("users") or []
    return _invite(chat_provider(name), incident, channel, users)


def _invites_sent(name: str, message: OutboxMessage, result: dict) -> None:
    if not message.incident_id:
        return
    incident = Incident.objects.get(pk=message.incident_id)
    ref = incident.chat_channels.filter(provider=name).first()
    where = (ref.name if ref else "") or (incident.slack_channel_name if name == "slack" else "")
    _record_invites(name, message, result, f"#{where or 'the incident channel'}")


def archive(name: str, message: OutboxMessage) -> dict:
    """Archive the channel of a closed incident, deciding under the incident's lock.

    The lock is held across the chat call on purpose (DESIGN.md rule 11): a reopen waits
    for the archive to finish, or the archive sees the reopen and skips; it never archives
    the channel of an open incident. A close after a reopen schedules its own archive, so
    one scheduled for an earlier close skips too.
    """
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).get(pk=message.incident_id)
        if incident.status != "closed":
            return {"skipped": f"{incident.number} is {incident.status}, not archived"}
        closed_at = message.payload.get("closed_at")
        if closed_at and incident.closed_at and closed_at != incident.closed_at.isoformat():
            return {"skipped": f"{incident.number} was closed again; that close archives it"}
        channel = _channel(incident, name)
        chat_provider(name).archive(channel)
    return {"archived": channel}


def _enabled(name: str) -> Callable[[], bool]:
    # One callable per provider: the command page groups senders by it (one "off" entry).
    return slack_enabled if name == "slack" else chat_provider_class(name).enabled


def register() -> None:
    """Senders for every provider ``NEXUSOPS_CHAT`` turns on."""
    for name in chat_providers():
        cls = chat_provider_class(name)
        common = {"enabled": _enabled(name), "off_reason": cls.off_reason}
        order = functools.partial(in_channel_order, name=name)
        register_sender(
            f"{name}.channel_setup",
            send=functools.partial(channel_setup, name),
            on_sent=functools.partial(_remember_channel, name),
            label=f"{cls.label} channel set-up",
            blocks=True,
            **common,
        )
        register_sender(
            f"{name}.summary_update",
            send=functools.partial(summary_update, name),
            label=f"{cls.label} pinned summary",
            after=order,
            **common,
        )
        register_sender(
            f"{name}.post",
            send=functools.partial(post, name),
            reconcile=functools.partial(post_find, name),
            label=f"{cls.label} message",
            after=order,
            **common,
        )
        register_sender(
            f"{name}.invite",
            send=functools.partial(invite, name),
            on_sent=functools.partial(_invites_sent, name),
            label=f"{cls.label} invitation",
            after=order,
            **common,
        )
        register_sender(
            f"{name}.archive",
            send=functools.partial(archive, name),
            label=f"{cls.label} channel archive",
            after=order,
            **common,
        )
