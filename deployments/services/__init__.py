"""Every rule about deployments and maintenance windows. Views, the API and timers call these."""

from .integrations import integration_authenticate, integration_create
from .maintenance import (
    maintenance_cancel,
    maintenance_emergency_approve,
    maintenance_emergency_create,
    maintenance_generate,
    maintenance_notify,
    maintenance_work_set,
)
from .record import deployment_check_set, deployment_finish, deployment_record, deployment_start
from .rollback import (
    deployment_backup_attach,
    deployment_backup_request,
    deployment_incident_link,
    deployment_rollback_request,
    rollback_plan,
)

__all__ = [
    "deployment_backup_attach",
    "deployment_backup_request",
    "deployment_check_set",
    "deployment_finish",
    "deployment_incident_link",
    "deployment_record",
    "deployment_rollback_request",
    "deployment_start",
    "integration_authenticate",
    "integration_create",
    "maintenance_cancel",
    "maintenance_emergency_approve",
    "maintenance_emergency_create",
    "maintenance_generate",
    "maintenance_notify",
    "maintenance_work_set",
    "rollback_plan",
]
