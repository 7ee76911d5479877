"""The deployments API: CI/CD records deployments, ArgoCD notifies about syncs.

``POST /api/deployments/`` — ``Authorization: Bearer <CI integration token>`` (or a person's
``Token``/session). Repeating a call with the same ``external_id`` updates that deployment
(status, finish time, revision) instead of recording it twice.

``POST /api/deployments/argocd/`` — ``Authorization: Bearer <ArgoCD integration token>``; an
ArgoCD notifications webhook template like::

    template.nexusops-deploy: |
      webhook:
        nexusops:
          method: POST
          body: |
            {"app": "{{.app.metadata.name}}", "revision": "{{.app.status.sync.revision}}",
             "phase": "{{.app.status.operationState.phase}}",
             "started_at": "{{.app.status.operationState.startedAt}}",
             "finished_at": "{{.app.status.operationState.finishedAt}}",
             "services": ["{{index .app.metadata.labels "nexus/service"}}"]}
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Incident, Service
from nexusops.common.errors import ApplicationError

from .. import selectors
from ..models import Deployment, Status
from ..services import deployment_finish, deployment_record, deployment_start
from .auth import (
    ArgoCDTokenAuthentication,
    CanRecordDeployments,
    IntegrationTokenAuthentication,
    integration_of,
)
from .serializers import ArgoCDIn, DeploymentIn, DeploymentOut


def _out(deployment: Deployment, code: int) -> Response:
    deployment = Deployment.objects.prefetch_related("services", "checks").get(pk=deployment.pk)
    return Response(DeploymentOut(deployment).data, status=code)


def _advance(deployment: Deployment, *, status: str, actor, finished_at=None,  # noqa: ANN001
             k8s_revision=None, migration_status_output="") -> Deployment:  # fmt: skip
    """A later report about a recorded deployment."""
    if status == Status.IN_PROGRESS and deployment.status == Status.PENDING:
        return deployment_start(deployment=deployment, actor=actor)
    if status in (Status.SUCCEEDED, Status.FAILED):
        return deployment_finish(
            deployment=deployment, actor=actor, status=status, finished_at=finished_at,
            k8s_revision=k8s_revision, migration_status_output=migration_status_output or None,
        )  # fmt: skip
    return deployment


class DeploymentListView(ListAPIView):
    authentication_classes = [
        IntegrationTokenAuthentication, TokenAuthentication, SessionAuthentication,
    ]  # fmt: skip
    permission_classes = [CanRecordDeployments]
    serializer_class = DeploymentOut

    def get_queryset(self):  # noqa: ANN201
        qs, _ = selectors.deployments_filtered(self.request.query_params)
        return qs.prefetch_related("checks")

    @extend_schema(
        request=DeploymentIn,
        responses={201: DeploymentOut, 200: DeploymentOut},
        description="Record a deployment (201), or advance the one with this external_id "
        "(200). services, version and git_sha are required.",
    )
    def post(self, request):  # noqa: ANN001, ANN201
        data = DeploymentIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        integration = integration_of(request)
        actor = None if integration else request.user
        source = "ci" if integration else "api"
        incident = None
        if v["incident"]:
            incident = Incident.objects.filter(number=v["incident"].upper()).first()
            if incident is None:
                raise ApplicationError(f"No incident {v['incident']}.",
                                       fields={"incident": ["No such incident."]})  # fmt: skip
        with transaction.atomic():
            existing = (
                v["external_id"]
                and Deployment.objects.select_for_update()
                .filter(source=source, external_id=v["external_id"])
                .first()
            )
            if existing:
                done = _advance(existing, status=v["status"], actor=actor,
                                finished_at=v["finished_at"], k8s_revision=v["k8s_revision"],
                                migration_status_output=v["migration_status_output"])  # fmt: skip
                return _out(done, http.HTTP_200_OK)
            ci = {k: v[k] for k in ("tests_passed", "security_scan", "migrations_tested",
                                    "smoke_tests_passed") if v[k] not in (None, "")}  # fmt: skip
            deployment = deployment_record(
                actor=actor, services=v["services"], version=v["version"], git_sha=v["git_sha"],
                environment=v["environment"], kind=v["kind"], status=v["status"],
                registry=v["registry"], previous_sha=v["previous_sha"], pr_url=v["pr_url"],
                labels=v["labels"], reviewers=v["reviewers"], deployer_name=v["deployer"],
                started_at=v["started_at"], finished_at=v["finished_at"],
                k8s_deployment=v["k8s_deployment"], k8s_revision=v["k8s_revision"],
                argocd_app=v["argocd_app"], is_migration=v["is_migration"],
                backup_run=v["backup_run"], migration_status_output=v["migration_status_output"],
                incident=incident, ci=ci, source=source, integration=integration,
                external_id=v["external_id"],
            )  # fmt: skip
        return _out(deployment, http.HTTP_201_CREATED)


PHASES = {"Running": Status.IN_PROGRESS, "Succeeded": Status.SUCCEEDED,
          "Failed": Status.FAILED, "Error": Status.FAILED}  # fmt: skip


class ArgoCDWebhookView(APIView):
    authentication_classes = [ArgoCDTokenAuthentication]
    permission_classes = [CanRecordDeployments]

    @extend_schema(request=ArgoCDIn, responses={200: DeploymentOut, 201: DeploymentOut})
    def post(self, request):  # noqa: ANN001, ANN201
        data = ArgoCDIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        status = PHASES[v["phase"]]
        finished = v["finished_at"] if status in (Status.SUCCEEDED, Status.FAILED) else None
        started = v["started_at"]
        external_id = f"{v['app']}:{v['revision']}:{started.isoformat() if started else ''}"
        services = [s for s in v["services"] if s] or (
            [v["app"]] if Service.objects.filter(slug=v["app"]).exists() else []
        )
        with transaction.atomic():
            existing = (
                Deployment.objects.select_for_update()
                .filter(source="argocd", external_id=external_id)
                .first()
            )
            if existing:
                done = _advance(
                    existing,
                    status=status,
                    actor=None,
                    finished_at=v["finished_at"],
                    k8s_revision=v["k8s_revision"],
                )
                return _out(done, http.HTTP_200_OK)
            deployment = deployment_record(
                actor=None, services=services, version=v["version"] or v["revision"][:12],
                git_sha=v["revision"], status=status, started_at=started,
                finished_at=finished,
                argocd_app=v["app"], k8s_revision=v["k8s_revision"], source="argocd",
                integration=integration_of(request), external_id=external_id,
                deployer_name="ArgoCD",
            )  # fmt: skip
        return _out(deployment, http.HTTP_201_CREATED)
