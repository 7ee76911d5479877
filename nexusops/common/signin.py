"""Sign-in lockout (django-axes) and API throttling, tuned for an incident console.

A person locked out during an incident is a cost too, so the first lock is short and only
repeated guessing makes it longer: five failures for one account, or from one address, lock it
for a minute; each further failure while locked doubles that, up to an hour. A success resets
the count. Lockouts are rows in the admin ("Access attempts"), where a manager unlocks an account
by deleting its row.
"""

from __future__ import annotations

import datetime as dt

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

FIRST_LOCK = dt.timedelta(minutes=1)
LONGEST_LOCK = dt.timedelta(hours=1)


def lockout_cool_off(request: HttpRequest | None) -> dt.timedelta:
    """How long the current lock lasts: doubles with every failure past the limit."""
    if request is None:
        return FIRST_LOCK
    username = ""
    credentials = getattr(request, "axes_credentials", None) or {}
    username = credentials.get("username") or request.POST.get("username", "")
    address = getattr(request, "axes_ip_address", None)
    who = Q(username=username) if username else Q(pk__in=[])
    if address:
        who |= Q(ip_address=address)
    failures = AccessAttempt.objects.filter(who).aggregate(n=Max("failures_since_start"))["n"]
    beyond = max(0, (failures or 0) - settings.AXES_FAILURE_LIMIT)
    return min(FIRST_LOCK * (2 ** min(beyond, 16)), LONGEST_LOCK)


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check, tolerant of ``authenticate()`` called without a request.

    Only the login page and the admin login reach a password from outside, and both pass the
    request; a management command or a test calling ``authenticate(username=..)`` has no
    address to lock and is not a guessing attack, so it skips the check instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):  # noqa: ANN001, ANN201
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class _LiveRate:
    # DRF reads the rates into a class attribute at import; read them per request instead, so
    # a settings change (a test, an operator) takes effect.
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[attr-defined]


class ApiUserThrottle(_LiveRate, UserRateThrottle):
    """Per account (token or session) across the whole API."""


class ApiAnonThrottle(_LiveRate, AnonRateThrottle):
    """Per address for calls without credentials (they only ever get a 401, cheaply)."""


def lockout_response(request: HttpRequest, credentials: dict | None = None, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    """The "locked" page: says for how long, and who can unlock (HTTP 429)."""
    from axes.helpers import get_client_username
    from django.shortcuts import render

    wait = lockout_cool_off(request)
    context = {
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": max(1, round(wait.total_seconds() / 60)),
    }
    return render(request, "registration/locked_out.html", context, status=429)
