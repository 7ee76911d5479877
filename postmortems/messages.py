"""Building the texts of invitations and reminders, apart from sending them (STYLE habit 7)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from nexusops.common.services import actor_name

SITE_NAME = "NexusOps"


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at, dt.UTC).strftime("%A %Y-%m-%d %H:%M UTC")


def _url(postmortem) -> str:  # noqa: ANN001
    path = reverse("postmortem-detail", args=[postmortem.incident.number])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _items_url() -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('actionitem-list')}"


def invitation(postmortem, *, rescheduled: bool = False) -> dict:  # noqa: ANN001
    incident = postmortem.incident
    verb = "moved to" if rescheduled else "on"
    return {
        "subject": f"[{SITE_NAME}] Post-mortem of {incident.number} {verb} "
        f"{_when(postmortem.meeting_at)}",
        "body": "\n".join(
            [
                f"You are invited to the post-mortem of {incident.number}: {incident.title}.",
                f"When: {_when(postmortem.meeting_at)}",
                f"Document: {_url(postmortem)}",
                "",
                "Please read the generated timeline before the meeting.",
            ]
        ),
    }


def invitation_slack(postmortem, attendees) -> str:  # noqa: ANN001
    names = ", ".join(actor_name(p) for p in attendees)
    return (
        f":spiral_note_pad: Post-mortem meeting for {postmortem.incident.number} on "
        f"{_when(postmortem.meeting_at)} with {names}. Document: {_url(postmortem)}"
    )


def meeting_reminder(postmortem) -> dict:  # noqa: ANN001
    incident = postmortem.incident
    return {
        "subject": f"[{SITE_NAME}] Reminder: post-mortem of {incident.number} at "
        f"{_when(postmortem.meeting_at)}",
        "body": f"The post-mortem of {incident.number} ({incident.title}) starts at "
        f"{_when(postmortem.meeting_at)}.\nDocument: {_url(postmortem)}",
    }


def overdue(postmortem) -> str:  # noqa: ANN001
    return (
        f"Post-mortem of {postmortem.incident.number} is overdue: no meeting was scheduled "
        f"by {_when(postmortem.due_at)} (runbook: within 48 hours). {_url(postmortem)}"
    )


def action_item(item, *, stage: str) -> dict:  # noqa: ANN001
    """``stage``: "assigned", "reminder" or "overdue"."""
    incident = item.postmortem.incident
    head = {
        "assigned": "You own a new action item",
        "reminder": f"Action item due on {item.due_date:%Y-%m-%d}",
        "overdue": f"Action item OVERDUE since {item.due_date:%Y-%m-%d}",
    }[stage]
    lines = [
        f"{head} from the post-mortem of {incident.number}:",
        f"  {item.description}",
        f"Owner: {actor_name(item.owner)} · priority {item.get_priority_display()} · "
        f"due {item.due_date:%Y-%m-%d}",
    ]
    if item.tracker_url:
        lines.append(f"Tracker: {item.tracker_url}")
    lines.append(f"All your items: {_items_url()}")
    return {"subject": f"[{SITE_NAME}] {head}: {item.description[:60]}", "body": "\n".join(lines)}


# The handoff note lists this many open action items (soonest due first), then a count.
HANDOFF_ITEMS = 20


def handoff_section(items: list, count: int, handoff_day: dt.date) -> list[str]:
    """The Friday handoff note's lines for the open action items: soonest due first, the
    overdue marked as of the handoff, and where the rest are."""
    lines = [f"Open post-mortem action items ({count}):"]
    for item in items:
        what = item.description.strip().splitlines()[0][:120]
        late = " — OVERDUE" if item.due_date < handoff_day else ""
        lines.append(
            f"• {item.postmortem.incident.number}: {what} — {actor_name(item.owner)},"
            f" due {item.due_date:%Y-%m-%d}{late}"
        )
    more = f"{count - len(items)} more: " if count > len(items) else "All: "
    lines.append(f"{more}{_items_url()}")
    return lines
