"""Post-mortems of the demo's past incidents, in every review state, with action items (some
overdue), so the manager's pages show work on the first run (``seed_demo`` only)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model

from incidents.history import history_incidents
from incidents.models import Incident
from nexusops.common import clock
from nexusops.common.services import actor_name

from .models import ActionItem, PostMortem
from .services.common import policy
from .services.document import _generate_entries

SEED = 20260302
ROOT_CAUSES = [
    "A configuration change shipped without the canary stage.",
    "The connection pool was sized for last year's traffic.",
    "A Redis maxmemory policy evicted session keys under load.",
    "An expired IAM credential was not rotated by the job that should have.",
    "A dependency's retry storm saturated the gateway.",
]
ACTIONS = [
    ("Add a canary stage to the deploy pipeline", ActionItem.Priority.HIGH),
    ("Alert on connection-pool saturation above 80%", ActionItem.Priority.HIGH),
    ("Document the failover in runbook section 3", ActionItem.Priority.MEDIUM),
    ("Load-test the gateway at 2x peak", ActionItem.Priority.MEDIUM),
    ("Rotate credentials automatically every 30 days", ActionItem.Priority.LOW),
]


def seed_postmortem_history(say: Callable[[str], None]) -> None:
    past = [i for i in history_incidents() if not PostMortem.objects.filter(incident=i).exists()]
    if not past:
        return
    rng = random.Random(SEED)
    people = list(get_user_model().objects.filter(username__in=["ic", "responder", "manager"]))
    manager = next((p for p in people if p.username == "manager"), None)
    if manager is None:
        return
    rules, today = policy(), clock.now()
    made = items = 0
    for incident in past:
        required = incident.severity.code in rules.required_codes
        if not required and rng.random() > 0.25:
            continue
        postmortem = _postmortem(rng, incident, required, rules, manager, today)
        items += _action_items(rng, postmortem, people, today)
        made += 1
    say(f"post-mortem history: {made} post-mortems, {items} action items")


def _postmortem(rng, incident: Incident, required: bool, rules, manager, today) -> PostMortem:  # noqa: ANN001
    age = today - incident.resolved_at
    status = (
        PostMortem.Status.APPROVED
        if age > dt.timedelta(days=21)
        else rng.choice([PostMortem.Status.IN_REVIEW, PostMortem.Status.DRAFT])
    )
    due = incident.resolved_at + rules.schedule_within
    # One recent required review in three has no meeting booked yet: the report shows it late.
    booked = not (required and age < dt.timedelta(days=30) and rng.random() < 0.34)
    postmortem = PostMortem.objects.create(
        incident=incident,
        required=required,
        reason=f"{incident.severity.code} resolved" if required else "asked for by the team",
        status=status,
        revision=2 if status == PostMortem.Status.APPROVED else 1,
        published_revision=2 if status == PostMortem.Status.APPROVED else None,
        published_at=incident.resolved_at + dt.timedelta(days=6)
        if status == PostMortem.Status.APPROVED
        else None,
        summary=incident.summary,
        impact=incident.impact_description,
        root_cause=rng.choice(ROOT_CAUSES),
        detection="Detected by monitoring; the on-call engineer was paged.",
        response="Acknowledged, mitigated with a rollback, then fixed forward.",
        went_well="Paging and the incident channel worked; the status page was updated early.",
        went_wrong="The runbook step for this case was out of date.",
        lessons="Keep the runbook next to the alert.",
        due_at=due,
        meeting_at=due - dt.timedelta(hours=6) if booked else None,
        meeting_scheduled_at=incident.resolved_at + dt.timedelta(hours=rng.randint(2, 40))
        if booked
        else None,
        overdue_at=None if booked or due > today else due,
        submitted_by=incident.commander if status != PostMortem.Status.DRAFT else None,
        updated_by=manager,
        updated_by_name=actor_name(manager),
        created_at=incident.resolved_at,
        updated_at=incident.resolved_at + dt.timedelta(days=2),
    )
    postmortem.impact_services.set(incident.services.all())
    postmortem.attendees.set([p for p in [incident.commander, manager] if p])
    _generate_entries(postmortem)
    return postmortem


def _action_items(rng, postmortem: PostMortem, people: list, today) -> int:  # noqa: ANN001
    chosen = rng.sample(ACTIONS, k=rng.randint(1, 3))
    rows = []
    for description, priority in chosen:
        due = (postmortem.created_at + dt.timedelta(days=rng.randint(7, 45))).date()
        if due < today.date():
            status = rng.choice([ActionItem.Status.DONE] * 3 + [ActionItem.Status.OPEN])
        else:
            status = rng.choice([ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS])
        rows.append(
            ActionItem(
                postmortem=postmortem,
                description=description,
                owner=rng.choice(people),
                due_date=due,
                priority=priority,
                status=status,
                created_by=postmortem.updated_by,
                created_at=postmortem.created_at,
                closed_at=postmortem.created_at + dt.timedelta(days=5)
                if status == ActionItem.Status.DONE
                else None,
            )
        )
    ActionItem.objects.bulk_create(rows)
    return len(rows)
