"""What the escalation policy (runbook 2.4) calls for: which tiers an incident's state arms,
when, and in what words. Pure reads of the policy's rows and the incident; no writes.

The services that act on it are in ``escalation_services``, the paging in
``escalation_firing``, the reads for pages in ``selectors``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from incidents.models import OPEN_STATUSES, Incident
from nexusops.common.text import duration_words

from .models import EscalationPolicy, EscalationTier

KIND = "escalation"
REASON_TIME = "time"
REASON_FLAG = "flag"
REASON_ACK = "ack_breach"
# The incident's fields the policy reads (its tiers' conditions).
POLICY_FIELDS = {"severity", "data_breach", "major_customer_impact"}


def active_policy() -> EscalationPolicy | None:
    return (
        EscalationPolicy.objects.filter(active=True)
        .select_related("rotation")
        .prefetch_related("tiers__severities", "tiers__user__profile")
        .first()
    )


def wanted(
    incident: Incident, policy: EscalationPolicy, now: dt.datetime
) -> dict[int, tuple[dt.datetime, str, str]]:
    """tier order → (due, reason code, words) for every tier this incident's state calls for."""
    if incident.status not in OPEN_STATUSES:
        return {}
    found: dict[int, tuple[dt.datetime, str, str]] = {}
    for tier in policy.tiers.all():
        options = []
        if incident.data_breach and tier.on_data_breach:
            options.append((now, REASON_FLAG, "data breach"))
        if incident.major_customer_impact and tier.on_major_customer_impact:
            options.append((now, REASON_FLAG, "major customer impact"))
        codes = {s.pk for s in tier.severities.all()}
        if tier.delay is not None and (not codes or incident.severity_id in codes):
            words = (
                "paged on detection"
                if not tier.delay
                else f"not resolved {duration_words(tier.delay)} after detection"
            )
            options.append((incident.detected_at + tier.delay, REASON_TIME, words))
        if options:
            found[tier.order] = min(options, key=lambda o: o[0])
    return found


def tier_applies(incident: Incident, tier: EscalationTier) -> bool:
    """Whether this tier's conditions (severities, flags) call for it on this incident at all,
    whenever it would be due; fall-through skips a tier that does not apply, as ``wanted``
    never arms one."""
    if incident.data_breach and tier.on_data_breach:
        return True
    if incident.major_customer_impact and tier.on_major_customer_impact:
        return True
    codes = {s.pk for s in tier.severities.all()}
    return tier.delay is not None and (not codes or incident.severity_id in codes)


def situation(incident: Incident) -> str:
    """What the tiers' conditions read, e.g. "P3, no data breach or major customer impact"."""
    flags = [
        words
        for on, words in (
            (incident.data_breach, "data breach"),
            (incident.major_customer_impact, "major customer impact"),
        )
        if on
    ]
    return ", ".join(
        [incident.severity.code, *(flags or ["no data breach or major customer impact"])]
    )


def next_applicable(
    incident: Incident, tiers: Iterable[EscalationTier], tier: EscalationTier
) -> EscalationTier | None:
    """The first tier after ``tier`` (of the policy's ``tiers``, in order) that applies."""
    return next((t for t in tiers if t.order > tier.order and tier_applies(incident, t)), None)
