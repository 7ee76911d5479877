"""Slack and PagerDuty links for a person who signed in through SSO, found by e-mail.

Both vendors look people up by e-mail (Slack ``users.lookupByEmail``, PagerDuty
``GET /users?query=``). Only an empty link is filled, with a guarded UPDATE, so an id a person
or an admin typed always wins. A vendor that is down raises :class:`RetryableError` (the
task tries again later); one that is off or knows nobody with that e-mail leaves the link empty.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from incidents.models import Profile
from nexusops.common import clock
from nexusops.integrations.errors import NotConfigured, VendorRejected
from nexusops.integrations.pagerduty.client import PagerDutyClient
from nexusops.integrations.slack.client import SlackClient

logger = logging.getLogger("nexusops.sso")


def profile_links_fill(*, user_id: int) -> dict[str, str]:
    """Fill the person's empty Slack and PagerDuty ids from their e-mail.

    Returns what happened per vendor, in words ("linked U123", "no user with ...", "off").
    """
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return {}
    email = (user.email or "").strip()
    profile, _ = Profile.objects.get_or_create(user=user)
    outcome: dict[str, str] = {}
    if not email:
        return {"slack": "no e-mail to look up", "pagerduty": "no e-mail to look up"}

    slack = SlackClient.default_or_none()
    if profile.slack_user_id:
        outcome["slack"] = f"already {profile.slack_user_id}"
    elif slack is None:
        outcome["slack"] = "Slack is not configured"
    else:
        try:
            slack_id = slack.user_lookup_by_email(email)
        except VendorRejected as exc:
            slack_id, outcome["slack"] = None, f"Slack refused the lookup: {exc}"
        if slack_id:
            Profile.objects.filter(pk=profile.pk, slack_user_id="").update(
                slack_user_id=slack_id, slack_invalid_id="", slack_email_unmatched_at=None
            )
            outcome["slack"] = f"linked {slack_id}"
        elif "slack" not in outcome:
            Profile.objects.filter(pk=profile.pk, slack_user_id="").update(
                slack_email_unmatched_at=clock.now()
            )
            outcome["slack"] = f"no Slack user has the e-mail {email}"

    pagerduty = PagerDutyClient.default_or_none()
    if profile.pagerduty_user_id:
        outcome["pagerduty"] = f"already {profile.pagerduty_user_id}"
    elif pagerduty is None or not pagerduty.rest_configured:
        outcome["pagerduty"] = "the PagerDuty REST API is not configured"
    else:
        try:
            pd_id = pagerduty.user_find_by_email(email)
        except (VendorRejected, NotConfigured) as exc:
            pd_id, outcome["pagerduty"] = None, f"PagerDuty refused the lookup: {exc}"
        if pd_id:
            Profile.objects.filter(pk=profile.pk, pagerduty_user_id="").update(
                pagerduty_user_id=pd_id
            )
            outcome["pagerduty"] = f"linked {pd_id}"
        elif "pagerduty" not in outcome:
            outcome["pagerduty"] = f"no PagerDuty user has the e-mail {email}"
    logger.info(
        "sso: links of %s: %s",
        user.get_username(),
        "; ".join(f"{vendor}: {what}" for vendor, what in outcome.items()),
    )
    return outcome
