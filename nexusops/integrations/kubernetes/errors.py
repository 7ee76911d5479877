"""Errors of the Kubernetes adapter, beyond the shared ones in ``nexusops.integrations.errors``.

All are :class:`~nexusops.integrations.errors.VendorRejected`: asking again the same way cannot
help. Unreachable API servers and 5xx answers raise
:class:`~nexusops.integrations.errors.VendorUnavailable` (retryable).
"""

from __future__ import annotations

from nexusops.integrations.errors import VendorRejected

VENDOR = "kubernetes"


class InvalidName(VendorRejected):
    """A name or label selector is not valid for Kubernetes; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid_name")


class ObjectNotFound(VendorRejected):
    """The pod, deployment or HPA does not exist in the namespace."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="not_found", status=404)


class RevisionNotFound(VendorRejected):
    """``rollout undo`` was asked for a revision the deployment's history does not have."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="revision_not_found")


class DeploymentPaused(VendorRejected):
    """The deployment is paused: resume it before rolling it back or restarting it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="deployment_paused", status=409)


class ScaleOutOfBounds(VendorRejected):
    """The replica count is outside the HPA's min/max and no override reason was given."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="scale_out_of_bounds")


class InvalidRequest(VendorRejected):
    """An argument is out of range (replicas, tail lines, HPA bounds); nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")
