"""The console pages for personal API tokens: your own, and (managers) everyone's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nexusops.common import clock
from nexusops.common.errors import ApplicationError

from .services import tokens as token_services


def _page(request: HttpRequest, *, everyone: bool, **extra) -> HttpResponse:  # noqa: ANN003
    status = extra.pop("status", 200)
    context = {
        "tokens": token_services.personal_tokens_visible(user=request.user, everyone=everyone),
        "everyone": everyone,
        "can_manage_all": token_services.can_manage_all(request.user),
        "expiry_choices": token_services.EXPIRY_CHOICES_DAYS,
        "now": clock.now(),
        **extra,
    }
    return render(request, "accounts/tokens.html", context, status=status)


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, everyone=False)
    name = request.POST.get("name", "")[:200]
    try:
        days = int(request.POST.get("expires_in_days", ""))
    except ValueError:
        days = 0
    try:
        created = token_services.personal_token_create(
            user=request.user, name=name, expires_in_days=days
        )
    except ApplicationError as exc:
        return _page(request, everyone=False, error=exc.message, name=name, status=exc.status)
    # The key is shown on this response only: it is not stored anywhere we could show it again.
    return _page(request, everyone=False, created=created, status=201)


def token_list_all(request: HttpRequest) -> HttpResponse:
    if not token_services.can_manage_all(request.user):
        raise PermissionDenied("Only managers see everyone's tokens.")
    return _page(request, everyone=True)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = token_services.personal_token_revoke(token_id=token_id, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token {token.name!r} of {token.user} is revoked.")
    back = request.POST.get("back", "")
    return redirect("token-list-all" if back == "all" else "token-list")
