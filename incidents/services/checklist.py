from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import NotFoundError
from nexusops.common.services import actor_name

from ..models import Channel, ChecklistItem, ChecklistTemplateItem, Incident, Step
from .common import lock, require
from .timeline import timeline_append

# Runbook 2.2, step by step. Seeded as rows (editable); these are the defaults.
RUNBOOK_CHECKLIST: list[tuple[str, str, str, bool]] = [
    ("ack_pagerduty", Step.ACKNOWLEDGE, "Acknowledge in PagerDuty", True),
    (
        "create_channel",
        Step.ACKNOWLEDGE,
        "Create the incident channel in Slack (#incident-YYYYMMDD-NNN)",
        True,
    ),
    ("determine_severity", Step.ASSESS, "Determine severity", True),
    ("identify_systems", Step.ASSESS, "Identify affected systems", True),
    ("estimate_impact", Step.ASSESS, "Estimate user impact", True),
    ("assign_ic", Step.ASSESS, "Assign an incident commander (IC)", True),
    ("update_status_page", Step.COMMUNICATE, "Update the status page", False),
    ("notify_stakeholders", Step.COMMUNICATE, "Notify stakeholders via Slack", False),
    ("initial_update", Step.COMMUNICATE, "Post the initial update within 15 minutes", True),
    ("implement_fix", Step.MITIGATE, "Implement an immediate fix or workaround", False),
    ("rollback_if_deploy", Step.MITIGATE, "Roll back if a recent deployment caused it", False),
    ("scale_if_capacity", Step.MITIGATE, "Scale resources if it is a capacity issue", False),
    ("status_page_progress", Step.MITIGATE, "Update the status page with progress", False),
    ("verify_resolved", Step.RESOLVE, "Verify the issue is resolved", True),
    ("monitor_30", Step.RESOLVE, "Monitor for 30 minutes", True),
    ("status_page_resolved", Step.RESOLVE, "Update the status page (resolved)", False),
    ("close_pagerduty", Step.RESOLVE, "Close the PagerDuty incident", False),
    ("schedule_postmortem", Step.POSTMORTEM, "Schedule the post-mortem within 48 hours", False),
    ("document_root_cause", Step.POSTMORTEM, "Document the root cause", False),
    ("identify_action_items", Step.POSTMORTEM, "Identify action items", False),
    ("assign_owners", Step.POSTMORTEM, "Assign owners and due dates", False),
]


def checklist_templates_seed() -> None:
    for order, (key, step, label, automatic) in enumerate(RUNBOOK_CHECKLIST):
        ChecklistTemplateItem.objects.get_or_create(
            key=key,
            defaults={"step": step, "label": label, "order": order * 10, "automatic": automatic},
        )


def checklist_create(incident: Incident) -> None:
    templates = list(ChecklistTemplateItem.objects.all())
    if not templates:
        # A fresh database without seeded runbook data still gets the runbook's checklist.
        checklist_templates_seed()
        templates = list(ChecklistTemplateItem.objects.all())
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                incident=incident,
                key=t.key,
                step=t.step,
                label=t.label,
                order=t.order,
                automatic=t.automatic,
            )
            for t in templates
        ]
    )


def checklist_tick(incident: Incident, *keys: str, actor: User | None = None) -> list[str]:
    """Tick items the system itself just did; returns the labels newly ticked."""
    items = list(
        ChecklistItem.objects.filter(incident=incident, key__in=keys, done_at__isnull=True)
    )
    now = clock.now()
    for item in items:
        item.done_at, item.done_by, item.done_by_name = now, actor, actor_name(actor)
        item.save(update_fields=["done_at", "done_by", "done_by_name"])
    return [i.label for i in items]


@transaction.atomic
def checklist_item_set(
    *,
    incident: Incident,
    key: str,
    done: bool,
    actor: User | None,
    channel: str = Channel.WEB,
) -> ChecklistItem:
    require(actor, "add_note")
    incident = lock(incident)
    try:
        item = ChecklistItem.objects.select_for_update().get(incident=incident, key=key)
    except ChecklistItem.DoesNotExist:
        raise NotFoundError(f"{incident.number} has no checklist item {key!r}.") from None
    if item.done == done:
        return item
    item.done_at = clock.now() if done else None
    item.done_by = actor if done else None
    item.done_by_name = actor_name(actor) if done else ""
    item.save(update_fields=["done_at", "done_by", "done_by_name"])
    verb = "ticked" if done else "unticked"
    timeline_append(
        incident=incident,
        kind="checklist",
        actor=actor,
        channel=channel,
        message=f"{verb.capitalize()} “{item.label}”",
        internal=True,
        data={"key": key, "done": done},
    )
    return item
