from __future__ import annotations

from django.db.models import QuerySet

from .models import Alert, AlertGroup, AlertProcessingFailure

GROUP_STATUSES = ("firing", "resolved")


def alert_group_list(*, status: str = "") -> QuerySet[AlertGroup]:
    groups = AlertGroup.objects.select_related("incident", "service", "rule")
    if status in GROUP_STATUSES:
        groups = groups.filter(status=status)
    return groups.order_by("-last_seen", "-id")


def alert_list(*, status: str = "") -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("group", "source")
    if status in GROUP_STATUSES:
        alerts = alerts.filter(status=status)
    return alerts.order_by("-last_seen", "-id")


def alert_groups_of_incident(*, number: str) -> QuerySet[AlertGroup]:
    return AlertGroup.objects.filter(incident__number=number).order_by("-last_seen", "-id")


def alert_processing_failures() -> list[AlertProcessingFailure]:
    """Groups whose processing failed, dead first, each with how many events wait for it."""
    failures = list(AlertProcessingFailure.objects.order_by("dead_at", "-last_failed_at")[:100])
    failures.sort(key=lambda f: (not f.dead, -f.last_failed_at.timestamp()))
    for failure in failures:
        failure.waiting = failure.waiting_events()
    return failures
