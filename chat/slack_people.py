"""Which Slack user each person is: the id on their Profile, else found by e-mail.

Real workspaces have ids nobody types, so a person without an id is looked up with
``users.lookupByEmail`` at the first invite that needs them, and the id is stored on their
Profile. What Slack refuses is remembered on the Profile too: an id it says does not exist
(``slack_invalid_id``, lifted once someone changes the id) and an e-mail it does not know
(``slack_email_unmatched_at``, asked again after :data:`EMAIL_RECHECK`), so the admin shows
the problem and invites do not ask Slack the same question every time.

These run in the outbox worker, outside any transaction; every write is a single UPDATE
guarded by the value read, so a person editing their profile meanwhile wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from incidents.models import Profile
from nexusops.common import clock
from nexusops.common.services import actor_name
from nexusops.integrations.chat import ChatProvider

EMAIL_RECHECK = dt.timedelta(hours=24)


@dataclass
class SlackPeople:
    """The Slack ids found for some people, and why the others have none."""

    ids: dict[str, str] = field(default_factory=dict)  # Slack id -> display name
    unlinked: dict[str, str] = field(default_factory=dict)  # display name -> reason


def slack_people_resolve(
    *, people: Iterable[AbstractBaseUser], client: ChatProvider
) -> SlackPeople:
    """Each person's Slack id, looking it up by e-mail when missing or known to be wrong."""
    found = SlackPeople()
    now = clock.now()
    for person in people:
        name = actor_name(person)
        profile = Profile.objects.filter(user=person).first()
        current = profile.slack_user_id if profile else ""
        if current and current != profile.slack_invalid_id:
            found.ids[current] = name
            continue
        email = (person.email or "").strip()
        if not email:
            found.unlinked[name] = (
                f"Slack has no user {current} and there is no e-mail to look them up by"
                if current
                else "no Slack id on their profile and no e-mail to look them up by"
            )
            continue
        recently_missed = (
            profile is not None
            and profile.slack_email_unmatched_at is not None
            and now - profile.slack_email_unmatched_at < EMAIL_RECHECK
        )
        if recently_missed:
            found.unlinked[name] = f"no Slack user has the e-mail {email}"
            continue
        slack_id = client.user_for_email(email)
        if profile is None:
            profile, _ = Profile.objects.get_or_create(user=person)
        if slack_id is None:
            Profile.objects.filter(pk=profile.pk, slack_user_id=current).update(
                slack_email_unmatched_at=now
            )
            found.unlinked[name] = f"no Slack user has the e-mail {email}"
            continue
        Profile.objects.filter(pk=profile.pk, slack_user_id=current).update(
            slack_user_id=slack_id, slack_invalid_id="", slack_email_unmatched_at=None
        )
        found.ids[slack_id] = name
    return found


def slack_ids_flag_invalid(*, refused: Mapping[str, str]) -> int:
    """Remember on each Profile the ids Slack says do not exist; returns how many."""
    missing = [user_id for user_id, code in refused.items() if code == "user_not_found"]
    if not missing:
        return 0
    flagged = 0
    for user_id in missing:
        flagged += Profile.objects.filter(slack_user_id=user_id).update(slack_invalid_id=user_id)
    return flagged


def slack_names(slack_ids: Iterable[str]) -> dict[str, str]:
    """Display names of the console users linked to these Slack ids (the id if nobody)."""
    ids = list(slack_ids)
    names = {user_id: user_id for user_id in ids}
    for profile in Profile.objects.filter(slack_user_id__in=ids).select_related("user"):
        names[profile.slack_user_id] = actor_name(profile.user)
    return names
