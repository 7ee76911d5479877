"""Severities are rows a manager edits (DESIGN.md rule 8); incidents keep a copy of the rank."""

from __future__ import annotations

from django.db import transaction

from ..models import Incident, Severity


@transaction.atomic
def severity_ranks_sync() -> int:
    """Copy each severity's rank onto its incidents where it differs (the list's severity
    order reads the copy, ``Incident.severity_rank``); the number of incidents changed.

    Call after changing a rank (the admin and the catalog seed do). One indexed UPDATE per
    severity; the incidents of an unchanged severity are not written."""
    changed = 0
    for severity_id, rank in Severity.objects.values_list("id", "rank"):
        changed += (
            Incident.objects.filter(severity_id=severity_id)
            .exclude(severity_rank=rank)
            .update(severity_rank=rank)
        )
    return changed
