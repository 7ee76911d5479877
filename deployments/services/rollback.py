"""Rollback (runbook 1.4), pre-migration backups (1.2) and change-to-incident links.

A rollback is a deployment of type rollback, linked to the one it undoes and to the incident,
whose remediation action (``k8s.rollout_undo`` to the revision before,
``argocd.set_revision`` to the previous SHA, or for a migration ``pg.restore_from_s3`` of the
pre-migration backup) goes through the remediation app's request and
approval rules: a dry run, then a second person approves. When that run finishes, a timeline
listener (runs on incidents) or the ``deployment_rollback_watch`` timer marks both deployments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from incidents.models import Channel, Incident
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.services import actor_name
from nexusops.engine.models import Timer
from remediation.events import ActionRunFinished

from ..models import Deployment, DeploymentIncident, Kind, Status
from . import common
from .common import require
from .gates import BACKUP_ACTION, backup_location
from .record import lock

RESTORE_ACTION = "pg.restore_from_s3"
WATCH_TIMER = "deployment_rollback_watch"
WATCH_EVERY = dt.timedelta(seconds=15)


def rollback_plan(deployment: Deployment) -> dict:
    """The remediation action that undoes ``deployment``: {"action", "params", "revision"}."""
    if deployment.is_migration:
        return _restore_plan(deployment)
    if deployment.argocd_app and deployment.previous_sha:
        return {
            "action": "argocd.set_revision",
            "params": {"app": deployment.argocd_app, "revision": deployment.previous_sha},
            "revision": deployment.previous_sha,
        }
    if deployment.k8s_deployment:
        before = (
            Deployment.objects.filter(
                k8s_deployment=deployment.k8s_deployment,
                environment=deployment.environment,
                k8s_revision__isnull=False,
                started_at__lt=deployment.at,
            )
            .exclude(pk=deployment.pk)
            .order_by("-started_at", "-id")
            .first()
        )
        if before is not None:
            to_revision = before.k8s_revision
        elif deployment.k8s_revision and deployment.k8s_revision > 1:
            to_revision = deployment.k8s_revision - 1
        else:
            to_revision = None  # kubectl's default: the previous revision
        params: dict = {"deployment": deployment.k8s_deployment}
        if to_revision:
            params["to_revision"] = to_revision
        return {"action": "k8s.rollout_undo", "params": params, "revision": to_revision}
    return {"action": "", "params": {}, "missing": "Nothing says how to roll this back."}


def _restore_plan(deployment: Deployment) -> dict:
    """A migration is undone by restoring its pre-migration backup (runbook 1.2, 4.2)."""
    from remediation.models import ActionRun

    run = deployment.backup_run
    bucket, key = backup_location(run) if run else ("", "")
    params = {"bucket": bucket, "key": key}
    plan: dict[str, Any] = {"action": RESTORE_ACTION, "params": params}
    if run is None:
        return {**plan, "missing": "No pre-migration backup is attached: nothing to restore."}
    if run.state != ActionRun.State.SUCCEEDED or not bucket or not key:
        return {**plan, "missing": f"Backup #{run.pk} recorded no S3 object to restore from."}
    version = (run.result or {}).get("version_id")
    if version:
        params["version_id"] = version
    return plan


@transaction.atomic
def deployment_rollback_request(
    *,
    deployment: Deployment | int,
    actor: User,
    incident: Incident | None = None,
    reason: str,
) -> Deployment:
    """Create the rollback deployment and request its remediation action (approval rules)."""
    from remediation.services import action_request

    require(actor, "rollback_deployment")
    reason = (reason or "").strip()
    if not reason:
        raise common.invalid("reason", "Say why it is rolled back.")
    target = lock(deployment)
    if target.kind == Kind.ROLLBACK:
        raise Conflict("Roll forward instead: a rollback is not rolled back.")
    if target.status == Status.ROLLED_BACK:
        raise Conflict(f"{target.number} is already rolled back.")
    if target.rollbacks.filter(status__in=[Status.PENDING, Status.IN_PROGRESS]).exists():
        raise Conflict(f"A rollback of {target.number} is already under way.")
    plan = rollback_plan(target)
    if plan.get("missing"):
        raise ApplicationError(plan["missing"], code="rollback_unavailable")
    run = action_request(
        action=plan["action"], params=plan["params"], actor=actor, incident=incident,
        reason=f"roll back {target.number}: {reason}"[:500],
    )  # fmt: skip
    now = clock.now()
    rollback = Deployment.objects.create(
        environment=target.environment, version=f"rollback of {target.version}"[:128],
        registry=target.registry, git_sha=target.previous_sha or target.git_sha,
        previous_sha=target.git_sha, kind=Kind.ROLLBACK, deployer=actor,
        deployer_name=actor_name(actor), status=Status.IN_PROGRESS, started_at=now,
        k8s_deployment=target.k8s_deployment,
        k8s_revision=plan.get("revision") if isinstance(plan.get("revision"), int) else None,
        argocd_app=target.argocd_app, rollback_of=target, incident=incident,
        rollback_action={"action": plan["action"], "params": plan["params"], "reason": reason},
        remediation_run=run, created_at=now,
    )  # fmt: skip
    rollback.services.set(target.services.all())
    Timer.objects.create(
        kind=WATCH_TIMER, due_at=now + WATCH_EVERY, data={"deployment": rollback.pk}
    )
    if incident is not None:
        DeploymentIncident.objects.get_or_create(
            deployment=target, incident=incident,
            defaults={"linked_by": actor, "linked_at": now, "reason": "rolled back from it"},
        )  # fmt: skip
        timeline_append(
            incident=incident, kind="deployment_rollback_requested", actor=actor,
            message=f"Rollback of {target.number} ({common.services_text(target)} "
            f"{target.version}) requested as {rollback.number}: {reason}",
            data={"deployment": target.pk, "rollback": rollback.pk, "run": run.pk},
        )  # fmt: skip
    common.notify_team(
        rollback, "requested",
        f":rewind: {rollback.number}: rollback of {target.number} ({common.services_text(target)} "
        f"{target.version}) requested by {rollback.deployer_name}: {reason}",
    )  # fmt: skip
    return rollback


def rollback_sync(rollback: Deployment) -> bool:
    """Bring a rollback (and what it undid) in line with its run; True once it is final."""
    from remediation.models import ActionRun

    run = rollback.remediation_run
    if rollback.status != Status.IN_PROGRESS or run is None:
        return True
    run = ActionRun.objects.get(pk=run.pk)
    if run.active:
        return False
    now = clock.now()
    if run.state == ActionRun.State.SUCCEEDED:
        rollback.status = Status.SUCCEEDED
        revision = (run.result or {}).get("to_revision")
        if isinstance(revision, int):
            rollback.k8s_revision = revision
        if rollback.rollback_of_id is not None:  # always, for a rollback
            Deployment.objects.filter(pk=rollback.rollback_of_id).update(status=Status.ROLLED_BACK)
    else:
        rollback.status = Status.FAILED
    rollback.finished_at = now
    rollback.save(update_fields=["status", "finished_at", "k8s_revision"])
    words = (
        "done" if rollback.status == Status.SUCCEEDED else f"not done ({run.get_state_display()})"
    )
    common.notify_team(
        rollback, "finished",
        f":rewind: {rollback.number}: rollback of DEP-{rollback.rollback_of_id} {words}.",
    )  # fmt: skip
    if rollback.incident is not None:
        timeline_append(
            incident=rollback.incident, kind="deployment_rollback_finished",
            channel=Channel.SYSTEM,
            message=f"{rollback.number}: rollback of DEP-{rollback.rollback_of_id} {words}.",
            data={"rollback": rollback.pk, "run": run.pk, "state": run.state},
        )  # fmt: skip
    return True


def record_run_finished(event: ActionRunFinished) -> None:
    """The remediation run of a rollback finished: record it at once."""
    for rollback in Deployment.objects.select_for_update().filter(
        remediation_run_id=event.run.pk, status=Status.IN_PROGRESS
    ):
        rollback_sync(rollback)


def rollback_watch(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    rollback = Deployment.objects.select_for_update().filter(pk=timer.data["deployment"]).first()
    if rollback is not None and not rollback_sync(rollback):
        Timer.objects.create(kind=WATCH_TIMER, due_at=now + WATCH_EVERY, data=timer.data)


@transaction.atomic
def deployment_backup_request(*, deployment: Deployment | int, actor: User) -> Deployment:
    """Request the pre-migration backup (remediation's aws.pg_backup) and attach its run."""
    from remediation.services import action_request

    require(actor, "record_deployment")
    deployment = lock(deployment)
    if not deployment.is_migration:
        raise Conflict(f"{deployment.number} has no database migration.")
    if deployment.status != Status.PENDING:
        raise Conflict("The backup is taken before the migration starts.")
    run = action_request(
        action=BACKUP_ACTION, params={"prefix": f"pre-migration/{deployment.number.lower()}"},
        actor=actor, reason=f"pre-migration backup for {deployment.number}",
    )  # fmt: skip
    deployment.backup_run = run
    deployment.save(update_fields=["backup_run"])
    return deployment


@transaction.atomic
def deployment_backup_attach(
    *, deployment: Deployment | int, actor: User | None, run: int
) -> Deployment:
    """Attach an existing backup run (e.g. one taken from the Runbooks page)."""
    from remediation.models import ActionRun

    require(actor, "record_deployment")
    deployment = lock(deployment)
    found = ActionRun.objects.filter(pk=run, action=BACKUP_ACTION).first()
    if found is None:
        raise common.invalid("run", f"Run #{run} is not a PostgreSQL backup.")
    deployment.backup_run = found
    deployment.save(update_fields=["backup_run"])
    return deployment


@transaction.atomic
def deployment_incident_link(
    *,
    deployment: Deployment | int,
    incident: Incident,
    actor: User | None,
    reason: str = "",
) -> DeploymentIncident:
    """This deployment caused that incident: a failed change, shown on both pages."""
    require(actor, "record_deployment")
    deployment = lock(deployment)
    link, created = DeploymentIncident.objects.get_or_create(
        deployment=deployment, incident=incident,
        defaults={"linked_by": actor, "linked_at": clock.now(), "reason": reason.strip()[:300]},
    )  # fmt: skip
    if created:
        timeline_append(
            incident=incident, kind="deployment_linked", actor=actor,
            channel=Channel.WEB if actor else Channel.SYSTEM,
            message=f"Linked to {deployment.number} ({common.services_text(deployment)} "
            f"{deployment.version})" + (f": {reason.strip()}" if reason.strip() else "."),
            data={"deployment": deployment.pk},
        )  # fmt: skip
    if deployment.postmortem_needed and deployment.kind == Kind.HOTFIX:
        from postmortems.services import postmortem_create

        postmortem_create(incident=incident, actor=None, required=True,
                          reason=f"hotfix {deployment.number}")  # fmt: skip
        deployment.postmortem_needed = False
        deployment.save(update_fields=["postmortem_needed"])
    return link
