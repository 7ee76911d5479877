"""The signed-in person's own profile: their time zone (editable) and chat/pager links (read).

Thin views: every role may open it, and it only ever reads or changes ``request.user``'s own
profile, so there is no id in the URL to tamper with.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents.models import Profile
from incidents.services.people import (
    profile_time_zone_default,
    profile_time_zone_set,
    time_zone_names,
)
from nexusops.common.errors import ApplicationError


@require_http_methods(["GET", "POST"])
def profile_page(request: HttpRequest) -> HttpResponse:
    error = ""
    submitted = ""
    status = 200
    if request.method == "POST":
        submitted = request.POST.get("time_zone", "")[:100]
        try:
            profile_time_zone_set(user=request.user, time_zone=submitted)
        except ApplicationError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, f"Times are now shown in {submitted.strip()}.")
            return redirect("profile")
    profile = Profile.objects.filter(user=request.user).first()
    return render(
        request,
        "incidents/profile.html",
        {
            "profile": profile,
            "time_zone": submitted or (profile.time_zone if profile else ""),
            "time_zone_names": time_zone_names(),
            "error": error,
        },
        status=status,
    )


@require_POST
def profile_browser_time_zone(request: HttpRequest) -> HttpResponse:
    """Sent once by static/js/timezone.js; stored only while the person has chosen none."""
    profile_time_zone_default(user=request.user, time_zone=request.POST.get("time_zone", "")[:100])
    return HttpResponse(status=204)
