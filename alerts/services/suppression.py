"""Maintenance windows (and anything like them) downgrade alerts to Slack only.

The deployments app fills this list when it lands; nothing here imports it (imports point
down). A provider gets the service slug and the time and returns a reason, or ``None``::

    from alerts.services.suppression import suppression_providers

    def in_maintenance(service_slug: str, at: datetime) -> str | None:
        window = MaintenanceWindow.objects.active(service_slug, at).first()
        return f"maintenance window {window}" if window else None

    suppression_providers.append(in_maintenance)   # in DeploymentsConfig.ready()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

suppression_providers: list[Callable[[str, dt.datetime], str | None]] = []


def suppression_reason(service_slug: str, at: dt.datetime) -> str:
    """The first provider's reason to downgrade this service's alerts, or ``""``."""
    for provider in suppression_providers:
        reason = provider(service_slug, at)
        if reason:
            return str(reason)
    return ""
