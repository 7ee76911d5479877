"""GitOps adapter: set an ArgoCD application's revision, sync it, follow the operation."""

from .client import (
    AppNotFound,
    AppStatus,
    ArgoCDClient,
    InvalidArgument,
    OperationInProgress,
    OperationResult,
    OperationTimeout,
)

__all__ = [
    "AppNotFound",
    "AppStatus",
    "ArgoCDClient",
    "InvalidArgument",
    "OperationInProgress",
    "OperationResult",
    "OperationTimeout",
]
