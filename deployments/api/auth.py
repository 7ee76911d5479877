"""Per-integration tokens (``Authorization: Bearer <token>``), stored hashed."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from ..models import DeployIntegration
from ..services import integration_authenticate


class IntegrationUser:
    """Who an integration is to DRF: authenticated, no Django permissions, not a person."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = is_superuser = False
    pk = id = None

    def __init__(self, integration: DeployIntegration) -> None:
        self.integration = integration

    def has_perm(self, perm: str, obj=None) -> bool:  # noqa: ANN001
        return False

    def __str__(self) -> str:
        return self.integration.name


class IntegrationTokenAuthentication(BaseAuthentication):
    source: str | None = DeployIntegration.Source.CI
    keyword = b"bearer"

    def authenticate(self, request):  # noqa: ANN001, ANN201
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send: Authorization: Bearer <token>.")
        integration = integration_authenticate(
            token=parts[1].decode(errors="replace"), source=self.source
        )
        if integration is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive integration token.")
        return IntegrationUser(integration), integration

    def authenticate_header(self, request) -> str:  # noqa: ANN001
        return 'Bearer realm="deployments"'


class ArgoCDTokenAuthentication(IntegrationTokenAuthentication):
    source = DeployIntegration.Source.ARGOCD


def integration_of(request) -> DeployIntegration | None:  # noqa: ANN001
    return request.auth if isinstance(request.auth, DeployIntegration) else None


class CanRecordDeployments(BasePermission):
    """An integration token, or a person who may record (to write) or view (to read)."""

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        if integration_of(request) is not None:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return user.has_perm("deployments.view_deployment")
        return user.has_perm("deployments.record_deployment")


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    """Documents the CI/CD integration token in the OpenAPI schema."""

    target_class = IntegrationTokenAuthentication
    name = "integrationToken"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A deployment integration's token (CI/CD).",
        }


class ArgoCDTokenScheme(OpenApiAuthenticationExtension):
    target_class = ArgoCDTokenAuthentication
    name = "argocdToken"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The ArgoCD notification integration's token.",
        }
