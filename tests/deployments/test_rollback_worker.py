"""Rollback and pre-migration backup end to end: the remediation app's request and approval
rules, a real worker on the ``remediation`` queue, the Kubernetes and ArgoCD stand-ins and
moto's S3."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, DeploymentIncident, Kind, Status
from deployments.seed import seed_checklist
from deployments.services import (
    deployment_backup_request,
    deployment_record,
    deployment_rollback_request,
    deployment_start,
)
from nexusops.common import roles
from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from nexusops.engine.models import Timer
from nexusops.engine.timers import timers_sweep
from remediation.models import ActionRun
from remediation.services import action_approve
from tests.factories import ServiceFactory, UserFactory, incident
from tests.remediation.conftest import (  # noqa: F401 - fixtures
    argocd_standin,
    checks_db,
    k8s_standin,
    moto_url,
    remediation_settings,
    remediation_worker,
)
from tests.remediation.helpers import settle

from .helpers import PREV, SHA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres,
              pytest.mark.urls("tests.deployments.urls_for_tests")]  # fmt: skip
State = ActionRun.State


@pytest.fixture
def people(remediation_worker, remediation_settings):  # noqa: F811
    seed_checklist(lambda _: None)
    for slug in ("user-service", "api-gateway"):
        ServiceFactory(slug=slug)
    return {
        "ic": UserFactory(username="dep-ic-w", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="dep-mgr-w", role=roles.MANAGER),
    }


def _template(state: dict, kind: str, name: str) -> dict:
    obj = next(o for o in state["objects"][kind] if o["metadata"]["name"] == name)
    template = obj["spec"]["template"]
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return template


def _replicaset_of(state: dict, deployment: str, revision: int) -> str:
    return next(
        rs["metadata"]["name"]
        for rs in state["objects"]["replicasets"]
        if rs["metadata"]["name"].startswith(deployment)
        and rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == str(revision)
    )


def test_incident_rollback_through_kubernetes(people, k8s_standin, client):  # noqa: F811
    ic, manager = people["ic"], people["manager"]
    common = {"services": ["user-service"], "k8s_deployment": "user-service",
              "status": "in_progress", "reviewers": ["alice"]}  # fmt: skip
    deployment_record(actor=ic, version="v3.9.1", git_sha=PREV, k8s_revision=42, **common)
    bad = deployment_record(actor=ic, version="v3.10.0", git_sha=SHA, k8s_revision=43, **common)
    inc = incident(title="Platform down: 502s", services=("user-service",), severity_code="P1")
    before = k8s_standin.state()
    wanted = _template(before, "replicasets", _replicaset_of(before, "user-service", 42))

    client.force_login(ic)
    page = client.get(f"/incidents/{inc.number}/changes/")
    assert bad.number in page.content.decode()
    response = client.post(f"/deployments/{bad.pk}/rollback/",
                           {"incident": inc.number, "reason": "suspected cause"})  # fmt: skip
    rollback = Deployment.objects.get(kind=Kind.ROLLBACK)
    assert response.status_code == 302
    assert response["Location"] == f"/remediation/runs/{rollback.remediation_run_id}/"
    assert rollback.rollback_of == bad and rollback.incident == inc
    assert rollback.rollback_action["action"] == "k8s.rollout_undo"
    assert rollback.rollback_action["params"] == {"deployment": "user-service", "to_revision": 42}
    assert DeploymentIncident.objects.filter(deployment=bad, incident=inc).exists()

    run = settle(rollback.remediation_run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.AWAITING_APPROVAL, run.error
    with pytest.raises(Exception):  # noqa: B017,PT011 - the requester cannot approve it
        action_approve(run=run, actor=ic)
    action_approve(run=run, actor=manager)
    run = settle(run)
    assert run.state == State.SUCCEEDED, run.error

    after = k8s_standin.state()
    assert _template(after, "deployments", "user-service") == wanted
    rollback.refresh_from_db()
    assert rollback.status == Status.SUCCEEDED
    assert Deployment.objects.get(pk=bad.pk).status == Status.ROLLED_BACK
    with pytest.raises(Conflict):
        deployment_rollback_request(deployment=bad, actor=ic, incident=inc, reason="again")


def test_rollback_through_argocd(people, argocd_standin):  # noqa: F811
    ic, manager = people["ic"], people["manager"]
    d = deployment_record(
        actor=ic, services=["api-gateway"], version="v2.14.1", git_sha=SHA, previous_sha=PREV,
        argocd_app="nexus-platform", status="in_progress", reviewers=["bob"],
    )  # fmt: skip
    # outside an incident, remediation lets only a manager request it (run_standalone)
    rollback = deployment_rollback_request(
        deployment=d, actor=manager, reason="errors after deploy"
    )
    assert rollback.rollback_action["params"] == {"app": "nexus-platform", "revision": PREV}
    run = settle(rollback.remediation_run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.AWAITING_APPROVAL, run.error
    action_approve(run=run, actor=ic)
    assert settle(run).state == State.SUCCEEDED
    app = argocd_standin.state()["apps"]["nexus-platform"]
    assert app["spec"]["source"]["targetRevision"] == PREV
    # no incident, so no timeline event: the watch timer notices the finished run
    from nexusops.common import clock

    Timer.objects.filter(kind="deployment_rollback_watch").update(due_at=clock.now())
    timers_sweep()
    assert Deployment.objects.get(pk=rollback.pk).status == Status.SUCCEEDED
    assert Deployment.objects.get(pk=d.pk).status == Status.ROLLED_BACK


def test_migration_needs_a_fresh_backup_in_s3(people, moto_url):  # noqa: F811
    import boto3

    manager = people["manager"]
    d = deployment_record(actor=manager, services=["user-service"], version="v3.11.0",
                          git_sha=SHA, is_migration=True, reviewers=["carol"])  # fmt: skip
    with pytest.raises(Conflict) as exc:
        deployment_start(deployment=d, actor=manager)
    assert exc.value.code == "backup_required"
    with pytest.raises(Conflict):  # nor recorded as already running without one
        deployment_record(actor=manager, services=["user-service"], version="v3.11.0",
                          git_sha=SHA, is_migration=True, status="in_progress")  # fmt: skip
    assert Deployment.objects.count() == 1

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket="nexus-backups")
    d = deployment_backup_request(deployment=d, actor=manager)
    run = settle(d.backup_run)
    assert run.state == State.SUCCEEDED, run.error
    key = run.result["key"]
    assert key.startswith(f"pre-migration/{d.number.lower()}/backup_")
    assert s3.head_object(Bucket="nexus-backups", Key=key)["ContentLength"] > 0

    s3.delete_object(Bucket="nexus-backups", Key=key)  # gone from S3: still blocked
    with pytest.raises(Conflict) as exc:
        deployment_start(deployment=d, actor=manager)
    assert "not in S3" in exc.value.message
    s3.put_object(Bucket="nexus-backups", Key=key, Body=b"dump")
    started = deployment_start(deployment=d, actor=manager)
    assert started.status == Status.IN_PROGRESS


def test_migration_rollback_requests_a_restore_of_its_backup(people, moto_url, checks_db, settings):  # noqa: F811
    import boto3

    settings.REMEDIATION_RESTORE_DATABASE_URL = checks_db
    manager = people["manager"]
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket="nexus-backups")
    d = deployment_record(actor=manager, services=["user-service"], version="v3.12.0",
                          git_sha=SHA, is_migration=True, reviewers=["carol"])  # fmt: skip
    with pytest.raises(ApplicationError) as exc:  # no backup: nothing to restore from
        deployment_rollback_request(deployment=d, actor=manager, reason="broke signups")
    assert exc.value.code == "rollback_unavailable"
    assert "No pre-migration backup" in exc.value.message

    d = deployment_backup_request(deployment=d, actor=manager)
    backup = settle(d.backup_run)
    assert backup.state == State.SUCCEEDED, backup.error
    deployment_start(deployment=d, actor=manager)
    rollback = deployment_rollback_request(deployment=d, actor=manager, reason="broke signups")
    key = backup.result["key"]
    assert rollback.rollback_action["action"] == "pg.restore_from_s3"
    assert rollback.rollback_action["params"]["bucket"] == "nexus-backups"
    assert rollback.rollback_action["params"]["key"] == key
    assert rollback.status == Status.IN_PROGRESS and rollback.rollback_of == d

    run = rollback.remediation_run
    assert run.action == "pg.restore_from_s3" and run.dangerous and run.params["key"] == key
    run = settle(run, State.AWAITING_APPROVAL, State.REJECTED)
    assert run.state == State.AWAITING_APPROVAL, run.error
    assert f"s3://nexus-backups/{key}" in run.preview
    with pytest.raises(PermissionDeniedError):  # a second person must approve it
        action_approve(run=run, actor=manager)
    assert ActionRun.objects.get(pk=run.pk).state == State.AWAITING_APPROVAL
