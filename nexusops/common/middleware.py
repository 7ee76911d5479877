import zoneinfo

from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired
from django.utils import timezone


class LoginRequiredMiddleware(_DjangoLoginRequired):
    """Every page needs a login unless its view is marked ``@login_not_required``.

    The API is left to DRF (its views are marked login-not-required), which answers 401/403
    in JSON instead of redirecting.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserTimezoneMiddleware:
    """Render times in the signed-in user's zone; storage stays UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            tz_name = getattr(profile, "time_zone", "") or ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
