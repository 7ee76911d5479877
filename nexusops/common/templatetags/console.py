"""Template helpers for the console: navigation, times in the viewer's zone, badges.

``{% load console %}`` then:

* ``{% nav_menu %}`` renders the top bar navigation (see ``nexusops.common.navigation``);
  ``{% nav_items as items %}`` gives the same links to a template that lays them out itself.
* ``{{ dt|localtime_tag }}`` or ``{% when dt %}``: the time in the active zone (set per request
  from ``user.profile.time_zone``) with its abbreviation, the UTC time on hover.
* ``{% ago dt %}``: "12 minutes ago" / "in 3 hours", with the same ``<time>`` element.
* ``{% severity_badge code %}``: the P0-P3 badge; ``{% current_time as now %}``;
  ``{{ td|duration }}``.
* ``{% user_can "incidents.drive_incident" as can_drive %}``: whether the signed-in user has
  the permission, for a partial that pages with their own ``perms`` include.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from nexusops.common import clock, navigation

register = template.Library()

LOCAL_FORMAT = "%Y-%m-%d %H:%M %Z"
UTC_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


@register.inclusion_tag("partials/nav.html", takes_context=True)
def nav_menu(context) -> dict:  # noqa: ANN001 - template context
    request = context.get("request")
    items = navigation.nav_items(request) if request is not None else []
    return {
        "main_items": [i for i in items if i.section == navigation.MAIN],
        "tool_items": [i for i in items if i.section == navigation.TOOLS],
    }


@register.simple_tag(takes_context=True)
def user_can(context, permission: str) -> bool:  # noqa: ANN001 - template context
    """The signed-in user's permission, read from the request's user.

    ``perms.incidents.drive_incident`` is not safe in a partial: the command page's context
    has its own ``perms`` dict (``drive_incident``, ``add_note``...), which hides Django's,
    so there the lookup is empty and the partial wrongly hides what the user may do.
    """
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(user is not None and user.has_perm(permission))


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[navigation.NavItem]:  # noqa: ANN001 - template context
    request = context.get("request")
    return navigation.nav_items(request) if request is not None else []


def _aware_utc(value: dt.datetime) -> dt.datetime:
    # Storage is UTC (USE_TZ); a naive value can only be UTC as well.
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.astimezone(dt.UTC)


def _time_element(value: dt.datetime, text: str) -> SafeString:
    utc = _aware_utc(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.isoformat().replace("+00:00", "Z"),
        utc.strftime(UTC_FORMAT),
        text,
    )


@register.filter
def localtime_tag(value, fmt: str = LOCAL_FORMAT) -> str:  # noqa: ANN001 - any value
    """``<time>`` with the local time and zone; the UTC time in ``datetime`` and ``title``."""
    if not isinstance(value, dt.datetime):
        return "" if value in (None, "") else str(value)
    local = timezone.localtime(_aware_utc(value))
    return _time_element(value, local.strftime(fmt))


@register.simple_tag(name="when")
def when(value, fmt: str = LOCAL_FORMAT) -> str:  # noqa: ANN001 - any value
    return localtime_tag(value, fmt)


@register.simple_tag
def ago(value, depth: int = 2) -> str:  # noqa: ANN001 - any value
    """Relative to ``clock.now()``, so a test that freezes the clock sees a fixed text."""
    if not isinstance(value, dt.datetime):
        return "" if value in (None, "") else str(value)
    value = _aware_utc(value)
    now = clock.now()
    if abs(now - value) < dt.timedelta(minutes=1):
        text = "just now"
    elif value > now:
        text = f"in {timeuntil(value, now, depth=depth)}"
    else:
        text = f"{timesince(value, now, depth=depth)} ago"
    return _time_element(value, text)


@register.filter
def duration(value) -> str:  # noqa: ANN001 - a timedelta or anything else
    """A timedelta as the runbook writes it: "15 min", "1 h 30 min", "24 h", "3 d"."""
    if not isinstance(value, dt.timedelta):
        return "" if value in (None, "") else str(value)
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes >= 2 * 1440 and minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    hours, minutes = divmod(minutes, 60)
    return " ".join(
        p for p in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if p
    )


@register.simple_tag
def current_time() -> dt.datetime:
    """``{% current_time as now %}``: the clock's now, for ``{% when now %}``."""
    return clock.now()


@register.simple_tag
def severity_badge(severity) -> str:  # noqa: ANN001 - a Severity or its code
    code = getattr(severity, "code", severity) or ""
    title = getattr(severity, "name", "")
    return format_html('<span class="badge sev-{}" title="{}">{}</span>', code, title, code)
