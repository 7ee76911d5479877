"""Maintenance windows downgrade alerts to Slack only (runbook 7)."""

from __future__ import annotations

import datetime as dt

from deployments.selectors import maintenance_reason


def suppression_reason(service_slug: str, at: dt.datetime) -> str:
    """Why this service's alerts are downgraded right now (a maintenance window), or ``""``."""
    return maintenance_reason(service_slug=service_slug, at=at) or ""
