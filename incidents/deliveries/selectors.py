"""Reads for the command page's Deliveries panel: the incident's outbox, every vendor.

What Slack, PagerDuty, email and Statuspage were sent for one incident, counted per target and
state, with the rows worth a look; the panel polls while anything may still move.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Sum

from nexusops.common.errors import ApplicationError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import sender

from ..models import Incident, Status

DELIVERY_ROWS = 50


@dataclass
class DeliveryRow:
    message: OutboxMessage
    label: str


def deliveries_context(*, incident: Incident) -> dict:
    """The incident's outbox: a count per target and state, and the rows worth a look.

    Emails to subscribers can be thousands of rows; those that went out are only counted.
    """
    qs = OutboxMessage.objects.filter(incident=incident)
    counts = _delivery_counts(incident)
    summary: dict[str, dict[str, int]] = {}
    for row in counts:
        summary.setdefault(row["target"], {})[row["state"]] = row["n"]
    shown = qs.exclude(target__startswith="email.", state=OutboxMessage.State.SENT).order_by(
        "-created_at", "-id"
    )[:DELIVERY_ROWS]
    return {
        "incident": incident,
        "summary": [
            {"target": t, "label": _label(t), "states": sorted(s.items())}
            for t, s in summary.items()
        ],
        "rows": [DeliveryRow(m, _label(m.target)) for m in shown],
        "dead": sum(s.get(OutboxMessage.State.DEAD, 0) for s in summary.values()),
        "version": _deliveries_version(counts),
        "live": _deliveries_live(incident, counts),
    }


# A delivery settles in one of these; anything else may still move while the page is open.
SETTLED_STATES = {OutboxMessage.State.SENT, OutboxMessage.State.DEAD, OutboxMessage.State.SKIPPED}


@dataclass(frozen=True)
class DeliveriesPoll:
    """What the Deliveries panel's 2 s poll needs to decide between 204, 286 and a render."""

    version: str
    live: bool


def deliveries_poll(*, incident: Incident) -> DeliveriesPoll:
    """One grouped read: has anything moved since ``version``, and may anything still move?"""
    counts = _delivery_counts(incident)
    return DeliveriesPoll(_deliveries_version(counts), _deliveries_live(incident, counts))


def _delivery_counts(incident: Incident) -> list[dict]:
    return list(
        OutboxMessage.objects.filter(incident=incident)
        .values("target", "state")
        .annotate(n=Count("id"), tries=Sum("attempts"), last=Max("id"))
        .order_by("target", "state")
    )


def _deliveries_version(counts: list[dict]) -> str:
    # Rows have no updated_at: a state change moves a count, a retry moves the attempts, a new
    # row moves the newest id. The same grouped read the summary uses, so polling is one query.
    return "|".join(f"{r['target']}:{r['state']}:{r['n']}:{r['tries']}:{r['last']}" for r in counts)


def _deliveries_live(incident: Incident, counts: list[dict]) -> bool:
    """Keep polling while the incident is open or a message is still on its way."""
    return incident.status != Status.CLOSED or any(r["state"] not in SETTLED_STATES for r in counts)


def _label(target: str) -> str:
    try:
        return sender(target).label
    except ApplicationError:  # not registered: show its raw name
        return target
