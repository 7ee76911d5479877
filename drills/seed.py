"""Runbook 4.4 as rows: RTO 1 h, RPO 5 min, quarterly, and the drill's steps ("restore backup
to staging, run smoke tests"). Created only when missing, so a manager's edits survive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock

from .models import Drill, DrillEvidence, DrillStep, DrillTemplateStep, StepMark
from .services import drill_next_planned, policy

IC, DBA, SRE = "Incident Commander", "Database owner", "SRE on call"
R, P = StepMark.RECOVERED, StepMark.RECOVERY_POINT
# order, title, owner role, expected minutes, marks
STEPS = [
    (1, "Declare the drill and note T0, the simulated region failure", IC, 5, ""),
    (2, "Promote the DR read replica (staging) to primary", DBA, 10, ""),
    (
        3,
        "Restore the latest backup to staging (runbook 4.2); note the newest data restored",
        DBA,
        20,
        P,
    ),
    (4, "Update DNS / connection strings to the DR environment", SRE, 5, ""),
    (
        5,
        "Run the smoke tests against staging; the service counts as recovered when they pass",
        SRE,
        10,
        R,
    ),
    (6, "Record the findings and follow-up actions", IC, 10, ""),
]


def seed_drills(say: Callable[[str], None]) -> None:
    with transaction.atomic():
        policy()
        made = 0
        if not DrillTemplateStep.objects.exists():
            for order, title, role, minutes, marks in STEPS:
                DrillTemplateStep.objects.create(
                    order=order, title=title, owner_role=role, expected_minutes=minutes, marks=marks
                )
                made += 1
        drill_next_planned(after=clock.now())
    say(f"DR drill: policy, {made} template steps, next drill planned")


def seed_drill_history(say: Callable[[str], None]) -> None:
    """Two past drills (one met both objectives, one missed the RTO), for Reports."""
    if Drill.objects.filter(state=Drill.State.COMPLETED).exists():
        return
    actor = User.objects.filter(username="manager").first() or User.objects.first()
    if actor is None:
        return
    now = clock.now().replace(second=0, microsecond=0)
    for months_ago, took, lost in ((5, 72, 3), (2, 48, 4)):
        t0 = now - dt.timedelta(days=30 * months_ago)
        drill = Drill.objects.create(
            state=Drill.State.COMPLETED,
            scheduled_for=t0,
            rto_minutes=60,
            rpo_minutes=5,
            started_at=t0,
            started_by=actor,
            failure_at=t0,
            recovery_point_at=t0 - dt.timedelta(minutes=lost),
            recovered_at=t0 + dt.timedelta(minutes=took),
            completed_at=t0 + dt.timedelta(minutes=took + 10),
        )
        drill.summary = (
            f"Recovered in {took} min (RTO 60 min: "
            f"{'met' if took <= 60 else 'MISSED'}); data-loss window {lost} min "
            "(RPO 5 min: met)."
        )
        drill.save()
        for order, title, role, minutes, marks in STEPS:
            step = DrillStep.objects.create(
                drill=drill,
                order=order,
                title=title,
                owner_role=role,
                owner=actor,
                expected_minutes=minutes,
                marks=marks,
                due_at=t0,
                completed_at=drill.recovered_at,
                completed_by=actor,
            )
            DrillEvidence.objects.create(
                step=step,
                kind="text",
                text="Done (demo history).",
                added_by=actor,
                added_at=drill.recovered_at,
            )
    say("DR drill history: 2 past drills")
