"""Recording deployments (runbook 1.1, 1.3): from CI/CD, ArgoCD and the UI.

``deployment_record`` validates everything first (bad input saves nothing), stores the
deployment with its checklist copied from the template rows, ticks what the system can check
itself, and posts to the team's channel through the outbox. ``deployment_finish`` enforces the
gate: a production deployment is marked succeeded only with every required item ticked, unless
a manager overrides with a reason. CI reporting success while items are open leaves it in
progress with ``reported_status`` set; it completes itself when the last item is ticked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from incidents.models import Channel, Incident, Service
from incidents.services.common import resolve_services
from incidents.services.sla import monitoring_period
from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.services import actor_name, lock_row
from nexusops.engine.models import Timer

from ..models import (
    CheckTemplateItem,
    DeployIntegration,
    Deployment,
    DeploymentCheck,
    Environment,
    Kind,
    Status,
)
from . import common
from .common import invalid, require
from .gates import backup_problem, gate_open, post_checks_enqueue, try_complete

Auto = CheckTemplateItem.Auto
FINAL = (Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK)
MONITOR_TIMER = "deployment_monitor_end"


def _clean_choice(value: str, choices, field: str) -> str:  # noqa: ANN001
    if value not in choices.values:
        raise invalid(field, f"{field} must be one of {', '.join(choices.values)}, not {value!r}.")
    return value


def _clean_list(values: Iterable[str] | None, field: str) -> list[str]:
    out = [str(v).strip() for v in (values or []) if str(v).strip()]
    if any(len(v) > 100 for v in out):
        raise invalid(field, f"Each of {field} is at most 100 characters.")
    return list(dict.fromkeys(out))


def _previous(services: list[Service], environment: str) -> Deployment | None:
    return (
        Deployment.objects.filter(
            services=services[0], environment=environment, status=Status.SUCCEEDED
        )
        .exclude(started_at=None)
        .order_by("-started_at", "-id")
        .first()
    )


@transaction.atomic
def deployment_record(
    *,
    actor: User | None,
    services: Iterable[str | Service],
    version: str,
    git_sha: str,
    environment: str = Environment.PRODUCTION,
    kind: str = Kind.NORMAL,
    status: str = Status.PENDING,
    registry: str = "",
    previous_sha: str = "",
    pr_url: str = "",
    labels: Iterable[str] = (),
    reviewers: Iterable[str] = (),
    deployer_name: str = "",
    started_at: dt.datetime | None = None,
    finished_at: dt.datetime | None = None,
    k8s_deployment: str = "",
    k8s_revision: int | None = None,
    argocd_app: str = "",
    is_migration: bool = False,
    backup_run=None,  # noqa: ANN001 - a remediation ActionRun or its id
    migration_status_output: str = "",
    incident: Incident | None = None,
    ci: dict | None = None,
    source: str = "web",
    integration: DeployIntegration | None = None,
    external_id: str = "",
) -> Deployment:
    require(actor, "record_deployment")
    service_rows = resolve_services(services, required=True)
    version = (version or "").strip()
    if not version or len(version) > 128:
        raise invalid("version", "A version (image tag) of 1 to 128 characters is required.")
    git_sha = common.clean_sha(git_sha)
    previous_sha = common.clean_sha(previous_sha, "previous_sha", required=False)
    _clean_choice(environment, Environment, "environment")
    if kind not in (Kind.NORMAL, Kind.HOTFIX):
        raise invalid(
            "kind", "kind is normal or hotfix; a rollback is requested from a deployment."
        )
    _clean_choice(status, Status, "status")
    if status == Status.ROLLED_BACK:
        raise invalid("status", "A deployment is rolled back by a rollback, not recorded so.")
    if pr_url:
        try:
            URLValidator(schemes=["http", "https"])(pr_url)
        except ValidationError:
            raise invalid("pr_url", f"pr_url is not a web address: {pr_url!r}.") from None
    labels, reviewers = _clean_list(labels, "labels"), _clean_list(reviewers, "reviewers")
    if kind == Kind.HOTFIX:
        if "HOTFIX" not in {label.upper() for label in labels}:
            raise invalid("labels", "A hotfix needs its PR's HOTFIX label (runbook 1.3).")
        if not reviewers:
            raise invalid("reviewers", "A hotfix needs at least one recorded reviewer.")
    if k8s_revision is not None and (isinstance(k8s_revision, bool) or int(k8s_revision) < 1):
        raise invalid("k8s_revision", "k8s_revision is a positive whole number.")
    if status != Status.PENDING and started_at is None:
        started_at = clock.now()
    if status in (Status.SUCCEEDED, Status.FAILED) and finished_at is None:
        finished_at = clock.now()
    started_at, finished_at = common.clean_times(started_at, finished_at)
    if finished_at and status in (Status.PENDING, Status.IN_PROGRESS):
        raise invalid("finished_at", f"A {status} deployment has not finished.")
    if is_migration and status != Status.PENDING:
        problem = backup_problem(backup_run)
        if problem:
            raise Conflict(problem, code="backup_required")
    if len(migration_status_output) > 50_000:
        raise invalid("migration_status_output", "At most 50,000 characters.")
    if external_id and Deployment.objects.filter(source=source, external_id=external_id).exists():
        raise Conflict(f"{source} already recorded {external_id!r}.", code="duplicate")

    previous = _previous(service_rows, environment)
    deployment = Deployment.objects.create(
        environment=environment, version=version, registry=registry.strip()[:200],
        git_sha=git_sha, previous_sha=previous_sha or (previous.git_sha if previous else ""),
        pr_url=pr_url, kind=kind, labels=labels, deployer=actor,
        deployer_name=(deployer_name.strip() or actor_name(actor, source))[:150],
        reviewers=reviewers, status=Status.PENDING, started_at=started_at,
        k8s_deployment=(k8s_deployment or service_rows[0].slug)[:253],
        k8s_revision=int(k8s_revision) if k8s_revision is not None else None,
        argocd_app=argocd_app[:253], source=source, integration=integration,
        external_id=external_id[:200], ci=ci or {}, is_migration=is_migration,
        backup_run_id=getattr(backup_run, "pk", backup_run) if backup_run else None,
        migration_status_output=migration_status_output, incident=incident,
        created_at=clock.now(),
    )  # fmt: skip
    deployment.services.set(service_rows)
    _checklist_create(deployment, in_window=_in_window(service_rows, started_at))
    if status != Status.PENDING:
        _mark_started(deployment)
    if kind == Kind.HOTFIX:
        _hotfix_postmortem(deployment)
    if status in (Status.SUCCEEDED, Status.FAILED):
        _finish(deployment, actor=actor, status=status, finished_at=finished_at)
    return deployment


def _in_window(services: list[Service], at: dt.datetime | None) -> bool:
    from ..selectors import maintenance_reason

    at = at or clock.now()
    return any(maintenance_reason(service_slug=s.slug, at=at) for s in services)


def _checklist_create(deployment: Deployment, *, in_window: bool) -> None:
    DeploymentCheck.objects.bulk_create(
        DeploymentCheck(
            deployment=deployment, key=t.key, phase=t.phase, label=t.label, order=t.order,
            required=t.required, auto=t.auto,
        )
        for t in CheckTemplateItem.objects.all()
    )  # fmt: skip
    ci = deployment.ci or {}
    autos: list[tuple[str, str]] = [(Auto.LOGGED, "recorded in the deployment log")]
    if deployment.reviewers:
        autos.append((Auto.REVIEWED, "reviewed by " + ", ".join(deployment.reviewers)))
    if ci.get("tests_passed") is True:
        autos.append((Auto.TESTS, "CI: tests passing"))
    if str(ci.get("security_scan", "")).lower() == "passed":
        autos.append((Auto.SECURITY, "CI: security scan passed"))
    if not deployment.is_migration:
        autos.append((Auto.MIGRATIONS_TESTED, "no database migration"))
        autos.append((Auto.MIGRATIONS_DONE, "no database migration"))
    elif ci.get("migrations_tested") is True:
        autos.append((Auto.MIGRATIONS_TESTED, "CI: migration tested in staging"))
    if deployment.migration_status_output:
        autos.append((Auto.MIGRATIONS_DONE, "migration status recorded"))
    if deployment.previous_sha or (deployment.k8s_revision or 0) > 1:
        autos.append((Auto.ROLLBACK_PLAN, "one-click rollback to the previous revision"))
    if ci.get("smoke_tests_passed") is True:
        autos.append((Auto.SMOKE, "CI: smoke tests passing"))
    if deployment.kind == Kind.HOTFIX:
        autos.append((Auto.WINDOW, "hotfix: bypasses the maintenance window"))
    elif in_window:
        autos.append((Auto.WINDOW, "inside a maintenance window"))
    for auto, note in autos:
        common.tick_auto(deployment, auto, note=note)


def _mark_started(deployment: Deployment) -> None:
    deployment.status = Status.IN_PROGRESS
    deployment.started_at = deployment.started_at or clock.now()
    deployment.save(update_fields=["status", "started_at"])
    text = (
        f":rocket: {deployment.number} {deployment.get_kind_display().lower()} deploy of "
        f"{common.services_text(deployment)} {deployment.version} ({deployment.short_sha}) to "
        f"{deployment.environment} started by {deployment.deployer_name}."
    )
    if common.notify_team(deployment, "started", text):
        common.tick_auto(deployment, Auto.NOTIFIED, note=f"posted to {common.deploys_channel()}")


def _hotfix_postmortem(deployment: Deployment) -> None:
    """Runbook 1.3 step 8: a hotfix schedules a post-mortem on the incident it answers."""
    incident = deployment.incident
    if incident is None:
        deployment.postmortem_needed = True
        deployment.save(update_fields=["postmortem_needed"])
        return
    from postmortems.services import postmortem_create

    postmortem_create(
        incident=incident, actor=None, required=True,
        reason=f"hotfix {deployment.number}",
    )  # fmt: skip
    timeline_append(
        incident=incident, kind="deployment_hotfix", channel=Channel.SYSTEM,
        message=f"Hotfix {deployment.number} ({deployment.version}) recorded for "
        f"{common.services_text(deployment)}; post-mortem scheduled.",
        data={"deployment": deployment.pk},
    )  # fmt: skip


def lock(deployment: Deployment | int) -> Deployment:
    return lock_row(Deployment.objects.all(), deployment, "No such deployment.")


@transaction.atomic
def deployment_start(*, deployment: Deployment | int, actor: User | None) -> Deployment:
    """Pending to in progress; a migration needs its fresh backup first (runbook 1.2)."""
    require(actor, "record_deployment")
    deployment = lock(deployment)
    if deployment.status != Status.PENDING:
        raise Conflict(f"{deployment.number} is {deployment.get_status_display().lower()}.")
    if deployment.is_migration:
        problem = backup_problem(deployment.backup_run)
        if problem:
            raise Conflict(problem, code="backup_required")
    _mark_started(deployment)
    return deployment


@transaction.atomic
def deployment_finish(
    *,
    deployment: Deployment | int,
    actor: User | None,
    status: str,
    finished_at: dt.datetime | None = None,
    override_reason: str = "",
    k8s_revision: int | None = None,
    migration_status_output: str | None = None,
) -> Deployment:
    """Mark a deployment succeeded or failed (the gate is enforced here)."""
    require(actor, "record_deployment")
    if status not in (Status.SUCCEEDED, Status.FAILED):
        raise invalid("status", "A deployment finishes as succeeded or failed.")
    deployment = lock(deployment)
    if deployment.status in FINAL:
        if deployment.status == status:
            return deployment
        raise Conflict(f"{deployment.number} is already {deployment.get_status_display().lower()}.")
    if deployment.status == Status.PENDING:
        if deployment.is_migration:
            problem = backup_problem(deployment.backup_run)
            if problem:
                raise Conflict(problem, code="backup_required")
        _mark_started(deployment)
    if finished_at is not None:
        common.clean_times(deployment.started_at, finished_at)
    if k8s_revision is not None:
        if isinstance(k8s_revision, bool) or int(k8s_revision) < 1:
            raise invalid("k8s_revision", "k8s_revision is a positive whole number.")
        deployment.k8s_revision = int(k8s_revision)
    if migration_status_output:
        deployment.migration_status_output = migration_status_output[:50_000]
        common.tick_auto(deployment, Auto.MIGRATIONS_DONE, note="migration status recorded")
    deployment.save(update_fields=["k8s_revision", "migration_status_output"])
    return _finish(deployment, actor=actor, status=status, finished_at=finished_at,
                   override_reason=override_reason)  # fmt: skip


def _finish(
    deployment: Deployment,
    *,
    actor: User | None,
    status: str,
    finished_at: dt.datetime | None,
    override_reason: str = "",
) -> Deployment:
    first = deployment.finished_at is None
    if first:
        deployment.finished_at = finished_at or clock.now()
        deployment.save(update_fields=["finished_at"])
        if status == Status.SUCCEEDED:
            Timer.objects.create(
                kind=MONITOR_TIMER, due_at=deployment.finished_at + monitoring_period(),
                data={"deployment": deployment.pk},
            )  # fmt: skip
            post_checks_enqueue(deployment)
    if status == Status.FAILED:
        deployment.status = Status.FAILED
        deployment.save(update_fields=["status"])
        common.notify_team(
            deployment, "failed",
            f":x: {deployment.number} deploy of {common.services_text(deployment)} "
            f"{deployment.version} to {deployment.environment} FAILED.",
        )  # fmt: skip
        return deployment
    missing = gate_open(deployment)
    if missing and override_reason.strip():
        require(actor, "override_checklist")
        if actor is None:
            raise ApplicationError("Only a person (a manager) can override the checklist.")
        deployment.override_by, deployment.override_at = actor, clock.now()
        deployment.override_reason = override_reason.strip()[:500]
        deployment.override_items = [c.key for c in missing]
        deployment.save(
            update_fields=["override_by", "override_at", "override_reason", "override_items"]
        )
    elif missing and actor is None:
        deployment.reported_status = Status.SUCCEEDED
        deployment.save(update_fields=["reported_status"])
        return deployment
    elif missing:
        labels = "; ".join(c.label for c in missing)
        raise ApplicationError(
            f"{deployment.number} cannot be marked succeeded: required items are not ticked "
            f"({labels}). A manager may override with a reason.",
            code="checklist_open",
            fields={"checks": [c.key for c in missing]},
        )
    deployment.reported_status = Status.SUCCEEDED
    deployment.save(update_fields=["reported_status"])
    try_complete(deployment, force=True)
    return deployment


@transaction.atomic
def deployment_check_set(
    *, deployment: Deployment | int, key: str, done: bool, actor: User, note: str = ""
) -> DeploymentCheck:
    require(actor, "record_deployment")
    deployment = lock(deployment)
    check = DeploymentCheck.objects.filter(deployment=deployment, key=key).first()
    if check is None:
        raise invalid("key", f"{deployment.number} has no checklist item {key!r}.")
    if deployment.status in FINAL and not done:
        raise Conflict("A finished deployment's checklist cannot be unticked.")
    if done:
        common.tick(deployment, key, actor=actor, note=note)
    else:
        DeploymentCheck.objects.filter(pk=check.pk).update(
            done_at=None, done_by=None, done_by_name="", note=""
        )
    try_complete(deployment)
    check.refresh_from_db()
    return check


def monitoring_window_ended(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    """Runbook 1.1 "Monitor for 30 minutes": the period after a rollout is over."""
    deployment = Deployment.objects.select_for_update().filter(pk=timer.data["deployment"]).first()
    if deployment is None:
        return
    common.tick_auto(deployment, Auto.MONITOR, note="monitoring period over")
    common.notify_team(
        deployment, "monitored",
        f":eyes: {deployment.number} {common.services_text(deployment)} {deployment.version}: "
        "30-minute monitoring period over.",
    )  # fmt: skip
