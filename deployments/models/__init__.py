from .deployment import (
    CheckTemplateItem,
    DeployIntegration,
    Deployment,
    DeploymentCheck,
    DeploymentIncident,
    Environment,
    Kind,
    Phase,
    Status,
)
from .maintenance import MaintenanceWindow

__all__ = [
    "CheckTemplateItem",
    "DeployIntegration",
    "Deployment",
    "DeploymentCheck",
    "DeploymentIncident",
    "Environment",
    "Kind",
    "MaintenanceWindow",
    "Phase",
    "Status",
]
