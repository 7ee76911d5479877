"""Senders: deliver one outbox row through an adapter (DESIGN.md rules 3 and 5).

Each is safe to run again after a failure part-way: Slack's ``name_taken`` and
``already_pinned`` mean "done", invites read the channel's members and invite only who is
missing, posts carry their outbox key as metadata so a retry finds the earlier post, and
PagerDuty's Events API deduplicates on the incident number. PagerDuty REST notes are the
exception (``may_repeat``): the REST API honours no idempotency key for notes, so a worker
that dies after PagerDuty stored a note and before the outbox recorded it sends that note
again.

Everything said in an incident's channel waits for the channel (``after=in_channel_order``)
and for what was said before it, so a Slack outage at declaration costs no attempts and
posts arrive in the order of events.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from nexusops.common.errors import RetryableError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import DONE, register_sender
from nexusops.integrations.pagerduty.client import PagerDutyClient
from nexusops.integrations.slack.client import SlackClient
from nexusops.integrations.slack.messages import incident_channel_name

from ..models import Channel, Incident
from ..services.timeline import timeline_append
from . import render, slack_people

SLACK_OFF = "Slack is not configured (SLACK_API_URL, SLACK_BOT_TOKEN)"
PAGERDUTY_EVENTS_OFF = (
    "PagerDuty events are not configured (PAGERDUTY_EVENTS_URL, PAGERDUTY_ROUTING_KEY)"
)
PAGERDUTY_REST_OFF = (
    "PagerDuty REST is not configured (PAGERDUTY_API_URL, PAGERDUTY_API_TOKEN, "
    "PAGERDUTY_FROM_EMAIL)"
)


def slack_enabled() -> bool:
    return bool(settings.SLACK_API_URL and settings.SLACK_BOT_TOKEN)


def pagerduty_events_enabled() -> bool:
    return bool(settings.PAGERDUTY_EVENTS_URL and settings.PAGERDUTY_ROUTING_KEY)


def pagerduty_rest_enabled() -> bool:
    return bool(
        settings.PAGERDUTY_API_URL
        and settings.PAGERDUTY_API_TOKEN
        and settings.PAGERDUTY_FROM_EMAIL
    )


def _incident(message: OutboxMessage) -> Incident:
    return (
        Incident.objects.select_related("severity", "commander__profile")
        .prefetch_related("services", "responders__profile")
        .get(pk=message.incident_id)
    )


def _invite(client: SlackClient, incident: Incident, channel: str, user_ids: list[str]) -> dict:
    """Make the given Slack ids, or else the commander and responders, channel members.

    People are linked by e-mail when their profile has no usable id; whoever cannot be
    invited (no Slack user, or Slack refused) is in the result with the reason, for the
    timeline, and ids Slack says do not exist are flagged on their profiles.
    """
    if user_ids:
        people = slack_people.SlackPeople(ids=slack_people.slack_names(user_ids))
    else:
        members = [incident.commander, *incident.responders.all()]
        people = slack_people.slack_people_resolve(
            people=list(dict.fromkeys(p for p in members if p is not None)), client=client
        )
    outcome = client.invite(channel, list(people.ids))
    slack_people.slack_ids_flag_invalid(refused=outcome.failed)
    return {
        "invited": [people.ids[u] for u in outcome.invited],
        "already": [people.ids[u] for u in outcome.already],
        "failed": {people.ids[u]: _refusal(u, code) for u, code in outcome.failed.items()},
        "unlinked": people.unlinked,
        "slack_ids": {
            "invited": list(outcome.invited),
            "already": list(outcome.already),
            "failed": outcome.failed,
        },
    }


def _refusal(slack_id: str, code: str) -> str:
    if code == "user_not_found":
        return f"Slack has no user {slack_id} (user_not_found)"
    return f"Slack refused {slack_id} ({code})"


def _record_invites(message: OutboxMessage, invites: dict, where: str) -> None:
    """Say on the timeline who was invited and who could not be, and why (rule 13)."""
    if not message.incident_id:
        return
    incident = Incident.objects.get(pk=message.incident_id)
    if invites.get("invited"):
        timeline_append(
            incident=incident,
            kind="slack_invited",
            channel=Channel.SYSTEM,
            internal=True,
            data={"message": message.pk, "slack_ids": invites["slack_ids"]["invited"]},
            message=f"Invited {', '.join(invites['invited'])} to {where} in Slack.",
        )
    problems = {**invites.get("unlinked", {}), **invites.get("failed", {})}
    if problems:
        said = "; ".join(f"{name}: {why}" for name, why in problems.items())
        # The delivery is done (asking again cannot help), but the Deliveries table shows
        # its last error: there it says who is missing, beside "Sent".
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=f"Could not invite {said}"[:2000]
        )
        timeline_append(
            incident=incident,
            kind="slack_invite_failed",
            channel=Channel.SYSTEM,
            internal=True,
            data={"message": message.pk, "reasons": problems},
            message=f"Could not invite to Slack: {said}.",
        )


class ChannelNotReady(RetryableError):
    """The incident has no Slack channel and no set-up to wait for (Slack was switched on
    after it was declared); try again shortly."""


CHANNEL_SETUP = "slack.channel_setup"
# What goes into the incident's own channel, in the order of events.
IN_CHANNEL = (CHANNEL_SETUP, "slack.summary_update", "slack.post", "slack.invite")


def in_channel_order(incident: Incident, payload: dict) -> OutboxMessage | None:
    """The message a new one for the incident's channel waits for: the latest earlier one
    not yet sent (ultimately the channel's set-up). A post to another channel waits for none."""
    if payload.get("channel"):
        return None
    return (
        OutboxMessage.objects.filter(incident=incident, target__in=IN_CHANNEL)
        .exclude(state__in=DONE)
        # an announcement elsewhere, or a message scheduled for later, sets no order here
        .exclude(payload__has_key="channel")
        .exclude(state=OutboxMessage.State.DEAD, target__in=IN_CHANNEL[1:])
        .order_by("-pk")
        .first()
    )


def _channel(incident: Incident) -> str:
    if not incident.slack_channel_id:
        raise ChannelNotReady(f"{incident.number} has no Slack channel yet", retry_after=2)
    return incident.slack_channel_id


# --- Slack ------------------------------------------------------------------------------------
def slack_channel_setup(message: OutboxMessage) -> dict:
    incident = _incident(message)
    client = SlackClient.default()
    channel = client.channel_create(incident_channel_name(incident.number))
    # The summary first: it is what responders joining the channel need to see.
    text, blocks = render.slack_summary(incident)
    ts = client.message_find(channel.id, message.key) if message.attempts > 1 else None
    if ts is None:
        ts = client.post_message(channel.id, text, blocks, idempotency_key=message.key)
    client.pin(channel.id, ts)
    client.set_topic(channel.id, render.slack_topic(incident))
    client.set_purpose(channel.id, render.slack_purpose(incident))
    return {
        "channel_id": channel.id,
        "channel_name": channel.name,
        "summary_ts": ts,
        "invites": _invite(client, incident, channel.id, []),
    }


def _remember_channel(message: OutboxMessage, result: dict) -> None:
    # A plain UPDATE: where the channel lives is not an edit of the incident (no version bump).
    Incident.objects.filter(pk=message.incident_id).update(
        slack_channel_id=result["channel_id"],
        slack_channel_name=result["channel_name"],
        slack_summary_ts=result["summary_ts"],
    )
    from ..services.checklist import checklist_tick

    checklist_tick(Incident.objects.get(pk=message.incident_id), "create_channel")
    _record_invites(message, result.get("invites") or {}, f"#{result['channel_name']}")


def slack_summary_update(message: OutboxMessage) -> dict:
    incident = _incident(message)
    channel = _channel(incident)
    client = SlackClient.default()
    text, blocks = render.slack_summary(incident)
    client.update_message(channel, incident.slack_summary_ts, text, blocks)
    client.set_topic(channel, render.slack_topic(incident))
    return {"ts": incident.slack_summary_ts}


def slack_post(message: OutboxMessage) -> dict:
    """Post ``payload["text"]`` to ``payload["channel"]``, or to the incident's channel."""
    channel = message.payload.get("channel") or _channel(_incident(message))
    ts = SlackClient.default().post_message(
        channel, message.payload["text"], idempotency_key=message.key
    )
    return {"channel": channel, "ts": ts}


def slack_post_find(message: OutboxMessage) -> dict | None:
    channel = message.payload.get("channel") or _channel(_incident(message))
    ts = SlackClient.default().message_find(channel, message.key)
    return {"channel": channel, "ts": ts, "reconciled": True} if ts else None


def slack_invite(message: OutboxMessage) -> dict:
    """Invite ``payload["users"]`` (Slack ids), or else the commander and responders."""
    incident = _incident(message)
    channel = _channel(incident)
    return _invite(SlackClient.default(), incident, channel, message.payload.get("users") or [])


def _invites_sent(message: OutboxMessage, result: dict) -> None:
    if not message.incident_id:
        return
    incident = Incident.objects.only("slack_channel_name").get(pk=message.incident_id)
    _record_invites(message, result, f"#{incident.slack_channel_name or 'the incident channel'}")


def slack_archive(message: OutboxMessage) -> dict:
    """Archive the channel of a closed incident, deciding under the incident's lock.

    The lock is held across the Slack call on purpose (DESIGN.md rule 11): a reopen waits
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
        channel = _channel(incident)
        SlackClient.default().archive(channel)
    return {"archived": channel}


# --- PagerDuty --------------------------------------------------------------------------------
def pagerduty_trigger(message: OutboxMessage) -> dict:
    payload = render.pagerduty_trigger(_incident(message))
    key = PagerDutyClient.default().trigger(**payload)
    return {"dedup_key": key}


def pagerduty_acknowledge(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().acknowledge(message.payload["dedup_key"])}


def pagerduty_resolve(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().resolve(message.payload["dedup_key"])}


def pagerduty_note(message: OutboxMessage) -> dict:
    note = PagerDutyClient.default().note_add(message.payload["dedup_key"], message.payload["text"])
    return {"note_id": note.get("id", "")}


def register() -> None:
    register_sender(
        CHANNEL_SETUP,
        send=slack_channel_setup,
        enabled=slack_enabled,
        on_sent=_remember_channel,
        label="Slack channel set-up",
        off_reason=SLACK_OFF,
        blocks=True,
    )
    register_sender(
        "slack.summary_update",
        send=slack_summary_update,
        enabled=slack_enabled,
        label="Slack pinned summary",
        off_reason=SLACK_OFF,
        after=in_channel_order,
    )
    register_sender(
        "slack.post",
        send=slack_post,
        reconcile=slack_post_find,
        enabled=slack_enabled,
        label="Slack message",
        off_reason=SLACK_OFF,
        after=in_channel_order,
    )
    register_sender(
        "slack.invite",
        send=slack_invite,
        enabled=slack_enabled,
        on_sent=_invites_sent,
        label="Slack invitation",
        off_reason=SLACK_OFF,
        after=in_channel_order,
    )
    register_sender(
        "slack.archive",
        send=slack_archive,
        enabled=slack_enabled,
        label="Slack channel archive",
        off_reason=SLACK_OFF,
        after=in_channel_order,
    )
    register_sender(
        "pagerduty.trigger",
        send=pagerduty_trigger,
        enabled=pagerduty_events_enabled,
        label="PagerDuty page",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.acknowledge",
        send=pagerduty_acknowledge,
        enabled=pagerduty_events_enabled,
        label="PagerDuty acknowledge",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.resolve",
        send=pagerduty_resolve,
        enabled=pagerduty_events_enabled,
        label="PagerDuty resolve",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.note",
        send=pagerduty_note,
        enabled=pagerduty_rest_enabled,
        label="PagerDuty note",
        off_reason=PAGERDUTY_REST_OFF,
        # No idempotency key for REST notes (checked: PagerDuty REST API v2, `pagerduty`'s
        # RestApiV2Client has only a client-side find-or-create, not usable for notes).
        may_repeat=True,
    )
