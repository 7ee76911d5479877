"""What the drill pages and the Reports table read."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, QuerySet

from .models import Drill, DrillEvidence
from .services import policy


def minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def drill_list_context() -> dict:
    drills = Drill.objects.select_related("started_by").annotate(step_count=Count("steps"))
    return {
        "policy": policy(),
        "planned": list(drills.filter(state=Drill.State.PLANNED).order_by("scheduled_for")),
        "running": list(drills.filter(state=Drill.State.RUNNING)),
        "completed": [drill_result(d) for d in drills.filter(state=Drill.State.COMPLETED)[:20]],
    }


def drill_result(drill: Drill) -> dict:
    return {
        "drill": drill,
        "recovery_minutes": minutes(drill.recovery_time),
        "loss_minutes": minutes(drill.data_loss),
        "rto_met": drill.rto_met,
        "rpo_met": drill.rpo_met,
    }


def drill_detail_context(drill: Drill) -> dict:
    steps = drill.steps.select_related("owner", "completed_by").prefetch_related(
        Prefetch("evidence", DrillEvidence.objects.select_related("added_by").defer("content"))
    )
    return {"result": drill_result(drill), "steps": list(steps)}


def completed_between(start: dt.datetime, end: dt.datetime) -> QuerySet[Drill]:
    return Drill.objects.filter(
        state=Drill.State.COMPLETED, failure_at__gte=start, failure_at__lt=end
    ).order_by("failure_at")


def evidence_file(pk: int) -> DrillEvidence | None:
    return DrillEvidence.objects.filter(pk=pk, kind=DrillEvidence.Kind.FILE).first()
