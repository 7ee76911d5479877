"""Who sent an inbound request: the console user linked to a Slack or PagerDuty user id.

A Slack user nobody has linked yet is linked by e-mail the first time they talk to the
console: Slack's ``users.info`` gives the e-mail on their Slack profile (the workspace
verified it), and exactly one active console user with that e-mail becomes them. The id is
stored on that user's Profile, so this asks Slack once per person.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q

from incidents.models import Profile
from nexusops.integrations.errors import IntegrationError
from nexusops.integrations.slack.client import SlackClient

logger = logging.getLogger(__name__)
# Slack waits 3 s for a slash command's answer; the lookup must leave time to reply.
LOOKUP_TIMEOUT = 1.5


def user_for_slack(slack_user_id: str, *, link: bool = True) -> AbstractBaseUser | None:
    """The active user whose ``Profile.slack_user_id`` is ``slack_user_id``, or None.

    With ``link`` (the default) an unknown id is linked by e-mail when Slack is configured.
    """
    if not slack_user_id:
        return None
    user = _linked(slack_user_id)
    if user is None and link:
        user = slack_user_link(slack_user_id=slack_user_id)
    return user


def _linked(slack_user_id: str) -> AbstractBaseUser | None:
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__slack_user_id=slack_user_id)
        .order_by("pk")
        .first()
    )


def slack_user_link(*, slack_user_id: str) -> AbstractBaseUser | None:
    """Link ``slack_user_id`` to the one active user with its Slack e-mail; None if none.

    Nothing is linked when Slack is off or unreachable, when the e-mail matches no user or
    several, or when that user already has another working Slack id (a second Slack account
    is for an admin to sort out, not for us to guess).
    """
    client = SlackClient.default_or_none(timeout=LOOKUP_TIMEOUT, rate_limit_retries=0)
    if client is None:
        return None
    try:
        email = client.user_email(slack_user_id)
    except IntegrationError as exc:
        logger.info("slack user %s not linked: %s", slack_user_id, exc)
        return None
    if not email:
        return None
    matches = list(get_user_model().objects.filter(is_active=True, email__iexact=email)[:2])
    if len(matches) != 1:
        return None
    user = matches[0]
    profile, _ = Profile.objects.get_or_create(user=user)
    # Only an empty or known-bad id is replaced; the guard holds against a concurrent edit.
    linked = Profile.objects.filter(
        Q(slack_user_id="") | Q(slack_user_id=F("slack_invalid_id")), pk=profile.pk
    ).update(slack_user_id=slack_user_id, slack_invalid_id="", slack_email_unmatched_at=None)
    return user if linked else None


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
