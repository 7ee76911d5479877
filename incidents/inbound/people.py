"""Who sent an inbound request: the console user linked to a Slack or PagerDuty user id."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser


def user_for_slack(slack_user_id: str) -> AbstractBaseUser | None:
    """The active user whose ``Profile.slack_user_id`` is ``slack_user_id``, or None."""
    if not slack_user_id:
        return None
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__slack_user_id=slack_user_id)
        .order_by("pk")
        .first()
    )


def user_for_pagerduty(pagerduty_user_id: str) -> AbstractBaseUser | None:
    """The active user whose ``Profile.pagerduty_user_id`` is ``pagerduty_user_id``, or None."""
    if not pagerduty_user_id:
        return None
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__pagerduty_user_id=pagerduty_user_id)
        .order_by("pk")
        .first()
    )
