"""What alerts lends to the apps below it (they cannot import alerts; alerts fills their hooks).

- Deployments' maintenance windows downgrade alerts to Slack-only (runbook 7).
- Deployments' post-deployment item "Check error rates" ticks itself from the alerts we hold.
"""

from __future__ import annotations

import datetime as dt

from deployments.selectors import maintenance_reason

from .models import AlertGroup, AlertStatus

ERROR_RATE_METRIC = "error_rate_percent"


def in_maintenance(service_slug: str, at: dt.datetime) -> str | None:
    return maintenance_reason(service_slug=service_slug, at=at)


def error_rate_probe(service_slugs: list[str], since: dt.datetime) -> tuple[bool, str]:
    """Not ok while an error-rate alert for these services has fired since the deployment."""
    firing = list(
        AlertGroup.objects.filter(
            service_slug__in=service_slugs,
            rule__metric=ERROR_RATE_METRIC,
            status=AlertStatus.FIRING,
            last_seen__gte=since,
        ).values_list("title", flat=True)[:5]
    )
    if firing:
        return False, "error-rate alerts firing: " + "; ".join(firing)
    return True, "no error-rate alert firing since the deployment"


def register() -> None:
    from deployments.services.gates import error_rate_probes

    from .services.suppression import suppression_providers

    if in_maintenance not in suppression_providers:
        suppression_providers.append(in_maintenance)
    if error_rate_probe not in error_rate_probes:
        error_rate_probes.append(error_rate_probe)
