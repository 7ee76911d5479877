"""A person's own settings: today their time zone.

The zone only changes how pages show times (``UserTimezoneMiddleware``); storage, e-mails and
Slack stay UTC. Everyone may change their own zone and nobody anyone else's, so these take the
acting user and never a target.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common.errors import ApplicationError

from ..models import Profile

# Files in the zone database that are not zones a person lives in: "localtime" is whatever the
# server is set to, "Factory" renders as "-00".
_NOT_A_PLACE = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA zones this machine knows, sorted, for validation and the profile's picker."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_A_PLACE))


def time_zone_clean(value: str) -> str:
    """``value`` as a known IANA zone name, or an ``ApplicationError`` that says what is wrong."""
    name = (value or "").strip()
    if not name:
        raise ApplicationError("Pick a time zone, for example Europe/Berlin.", code="time_zone")
    if name not in time_zone_names():
        raise ApplicationError(
            f"{name[:64]!r} is not a time zone this console knows; pick one from the list "
            "(for example America/Los_Angeles).",
            code="time_zone",
        )
    return name


@transaction.atomic
def profile_time_zone_set(*, user: User, time_zone: str) -> Profile:
    """The person's own choice, from their profile page; it wins over the browser's default."""
    name = time_zone_clean(time_zone)
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    if profile.time_zone != name:
        profile.time_zone = name
        profile.save(update_fields=["time_zone"])
    return profile


def profile_time_zone_default(*, user: User, time_zone: str) -> bool:
    """Store the browser's zone only while the person has none; True if it was stored.

    One conditional UPDATE, so a browser report that arrives just after the person chose a
    zone on their profile page cannot overwrite that choice. An unknown name is ignored: the
    browser sent it unasked, so there is nobody to show an error to.
    """
    try:
        name = time_zone_clean(time_zone)
    except ApplicationError:
        return False
    _, created = Profile.objects.get_or_create(user=user, defaults={"time_zone": name})
    if created:
        return True
    return bool(Profile.objects.filter(user=user, time_zone="").update(time_zone=name))
