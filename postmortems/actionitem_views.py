"""The action-item pages: add and update one on its post-mortem, and the list across them all.

Thin as the post-mortem pages (``views``), whose guards and redirect-back they share.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Service
from nexusops.common import clock

from . import selectors, services
from .models import ActionItem
from .views import _back, _forbidden, _get, _guarded, _not_found, _user_choices


@require_POST
@_guarded
def actionitem_create(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    post = request.POST
    due = None
    if post.get("due_date"):
        try:
            due = dt.date.fromisoformat(post["due_date"])
        except ValueError:
            messages.error(request, f"{post['due_date']!r} is not a date (YYYY-MM-DD).")
            return redirect(reverse("postmortem-detail", args=[number]))
    owner = post.get("owner", "")
    return _back(
        request,
        number,
        lambda: services.action_item_create(
            postmortem=pm,
            actor=request.user,
            description=post.get("description", ""),
            owner=int(owner) if owner.isdigit() else None,
            due_date=due,
            priority=post.get("priority", ActionItem.Priority.MEDIUM),
            tracker_url=post.get("tracker_url", ""),
        ),
        "Action item added; its owner is told.",
    )


@require_POST
@_guarded
def actionitem_update(request: HttpRequest, pk: int) -> HttpResponse:
    item = ActionItem.objects.select_related("postmortem__incident").filter(pk=pk).first()
    if item is None:
        return _not_found(request, "No such action item.")
    return _back(
        request,
        item.postmortem.incident.number,
        lambda: services.action_item_update(
            item=item, actor=request.user, status=request.POST.get("status", "")
        ),
        "Action item updated.",
    )


@require_GET
def actionitem_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("postmortems.view_draft"):
        return _forbidden(request, "Your role cannot read action items.")
    get = request.GET
    mine = get.get("mine") == "1" or ("owner" not in get and "state" not in get and not get)
    owner = user.pk if mine else (int(get["owner"]) if get.get("owner", "").isdigit() else None)
    due_before = None
    try:
        due_before = dt.date.fromisoformat(get["due_before"]) if get.get("due_before") else None
    except ValueError:
        messages.error(request, f"{get['due_before']!r} is not a date (YYYY-MM-DD).")
    state = get.get("state", "open")
    items = list(
        selectors.action_item_list(
            owner=owner, service=get.get("service", ""), due_before=due_before, state=state
        )[:500]
    )
    today = clock.now().astimezone(dt.UTC).date()
    for item in items:
        item.overdue = item.is_overdue(today)
    return render(
        request,
        "postmortems/actionitem_list.html",
        {
            "items": items,
            "mine": mine,
            "owner": owner,
            "state": state,
            "service": get.get("service", ""),
            "due_before": get.get("due_before", ""),
            "users": _user_choices(),
            "services": Service.objects.all(),
            "statuses": ActionItem.Status.choices,
        },
    )
