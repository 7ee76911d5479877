"""The gates of a deployment: the checklist (runbook 1.1) and the pre-migration backup (1.2).

Checks the system runs itself after a rollout (pods healthy, error rate) go through the outbox
(target ``deployments.post_checks``): a worker reads the pods through the Kubernetes adapter
and ticks the item. The error rate comes from the alerts app, which sits above this one: it
answers ``ErrorRateSince`` in its ``handlers.py`` with ``(ok, note)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from nexusops.common import clock
from nexusops.engine import events
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue, register_sender
from nexusops.integrations.errors import IntegrationError

from ..models import CheckTemplateItem, Deployment, DeploymentCheck, Environment, Status
from . import common

Auto = CheckTemplateItem.Auto
POST_CHECKS = "deployments.post_checks"
BACKUP_ACTION = "aws.pg_backup"


@dataclass(frozen=True)
class ErrorRateSince(events.Question):
    """Have these services' error rates stayed healthy since ``since``? Answers are
    ``(ok, note)``; no answer means nobody can tell."""

    service_slugs: tuple[str, ...]
    since: dt.datetime


def backup_max_age() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "DEPLOY_BACKUP_MAX_AGE_HOURS", 6)))


def backup_location(run) -> tuple[str, str]:  # noqa: ANN001 - an ActionRun
    result = run.result or {}
    return result.get("bucket", ""), result.get("key", "")


def backup_problem(run) -> str:  # noqa: ANN001 - an ActionRun, its id or None
    """Why this backup does not let a migration start ("" when it does).

    The run must be a succeeded ``aws.pg_backup`` younger than DEPLOY_BACKUP_MAX_AGE_HOURS,
    and its object must be in S3 now (read through the AWS adapter).
    """
    from remediation.models import ActionRun

    hours = f"{backup_max_age().total_seconds() / 3600:g}"
    need = (
        f"A migration deployment needs a fresh pre-migration backup (PostgreSQL to S3, newer "
        f"than {hours} hours) before it starts"
    )
    if run is None:
        return f"{need}: request one from the deployment page."
    if not isinstance(run, ActionRun):
        run = ActionRun.objects.filter(pk=run).first()
        if run is None:
            return f"{need}: no such backup run."
    if run.action != BACKUP_ACTION:
        return f"{need}: run #{run.pk} is {run.action}, not a PostgreSQL backup."
    if run.state != ActionRun.State.SUCCEEDED:
        return f"{need}: backup #{run.pk} is {run.get_state_display().lower()}."
    if run.finished_at is None or clock.now() - run.finished_at > backup_max_age():
        return f"{need}: backup #{run.pk} is older than {hours} hours."
    bucket, key = backup_location(run)
    if not bucket or not key:
        return f"{need}: backup #{run.pk} recorded no S3 object."
    from nexusops.integrations.aws import AwsClient

    try:
        versions = AwsClient.from_settings().list_object_versions(bucket, key)
    except IntegrationError as exc:
        return f"{need}: cannot check s3://{bucket}/{key} ({exc})."
    if not versions or versions[0].delete_marker:
        return f"{need}: s3://{bucket}/{key} is not in S3."
    return ""


def gate_open(deployment: Deployment) -> list[DeploymentCheck]:
    """The required items still unticked (only production deployments are gated)."""
    if deployment.environment != Environment.PRODUCTION:
        return []
    return list(DeploymentCheck.objects.filter(deployment=deployment, required=True, done_at=None))


def try_complete(deployment: Deployment, *, force: bool = False) -> bool:
    """CI said it succeeded and the last gate is now ticked (or overridden): mark it so."""
    if deployment.status != Status.IN_PROGRESS or deployment.reported_status != Status.SUCCEEDED:
        return False
    if not force and gate_open(deployment):
        return False
    deployment.status = Status.SUCCEEDED
    deployment.save(update_fields=["status"])
    text = (
        f":white_check_mark: {deployment.number} {common.services_text(deployment)} "
        f"{deployment.version} is live on {deployment.environment}."
    )
    if common.notify_team(deployment, "succeeded", text):
        common.tick_auto(
            deployment, Auto.NOTIFIED_DONE, note=f"posted to {common.deploys_channel()}"
        )
    return True


def kubernetes_enabled() -> bool:
    # Either way of reaching the cluster, as the adapter takes them (in a pod: KUBECONFIG).
    return bool(getattr(settings, "KUBERNETES_API_URL", "") or getattr(settings, "KUBECONFIG", ""))


def post_checks_enqueue(deployment: Deployment) -> None:
    outbox_enqueue(
        target=POST_CHECKS,
        key=f"deployment:{deployment.pk}:post_checks",
        payload={"deployment": deployment.pk},
    )
    since = deployment.started_at or deployment.created_at
    slugs = [s.slug for s in deployment.services.all()]
    for verdict in events.ask(ErrorRateSince(service_slugs=tuple(slugs), since=since)):
        if verdict[0]:
            common.tick_auto(deployment, Auto.ERROR_RATE, note=verdict[1])


def _send_post_checks(message: OutboxMessage) -> dict:
    from nexusops.integrations.kubernetes import KubernetesClient

    deployment = Deployment.objects.get(pk=message.payload["deployment"])
    pods = KubernetesClient.from_settings().list_pods(f"app={deployment.k8s_deployment}")
    bad = [
        p.name
        for p in pods
        if p.status != "Running"
        or p.ready_containers.split("/")[0] != p.ready_containers.split("/")[1]
    ]
    return {"pods": len(pods), "unhealthy": bad, "healthy": bool(pods) and not bad}


def _record_post_checks(message: OutboxMessage, result: dict) -> None:
    deployment = Deployment.objects.select_for_update().get(pk=message.payload["deployment"])
    if result.get("healthy"):
        common.tick_auto(deployment, Auto.PODS, note=f"{result['pods']} pods running and ready")
        try_complete(deployment)


def register() -> None:
    register_sender(
        POST_CHECKS, send=_send_post_checks, enabled=kubernetes_enabled,
        on_sent=_record_post_checks, label="Deployment health check (pods)",
    )  # fmt: skip
