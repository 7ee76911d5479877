"""What the alerts app does on other apps' events and questions (see nexusops/engine/events)."""

from deployments.services.gates import ErrorRateSince

from .hooks import error_rate_probe

HANDLERS = {
    ErrorRateSince: [error_rate_probe],
}
