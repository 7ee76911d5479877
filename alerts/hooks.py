"""What alerts answers for the apps below it (they cannot import alerts; see handlers.py):
deployments' post-deployment item "Check error rates" ticks itself from the alerts we hold.
"""

from __future__ import annotations

from deployments.services.gates import ErrorRateSince

from .models import AlertGroup, AlertStatus

ERROR_RATE_METRIC = "error_rate_percent"


def error_rate_probe(question: ErrorRateSince) -> tuple[bool, str]:
    """Not ok while an error-rate alert for these services has fired since the deployment."""
    service_slugs, since = list(question.service_slugs), question.since
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
