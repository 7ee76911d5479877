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
from .maintenance import MaintenanceEvent, MaintenanceWindow

__all__ = [
    "CheckTemplateItem",
    "DeployIntegration",
    "Deployment",
    "DeploymentCheck",
    "DeploymentIncident",
    "Environment",
    "Kind",
    "MaintenanceEvent",
    "MaintenanceWindow",
    "Phase",
    "Status",
]
