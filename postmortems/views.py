"""Post-mortem and report pages (action items are ``actionitem_views``). Thin: parse, call one
service or selector, render.

A refused write (``ApplicationError``) becomes a message and a redirect back for plain posts,
or the form again with its errors and the error's status; a permission refusal is a 403 page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident, Service
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, NotFoundError, PermissionDeniedError

from . import selectors, services
from .models import SECTIONS, ActionItem, PostMortem, PostMortemDraft, PostMortemTimelineEntry

Status = PostMortem.Status


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "postmortems/forbidden.html", {"message": message}, status=403)


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "postmortems/forbidden.html", {"message": message}, status=404)


def _get(request: HttpRequest, number: str) -> PostMortem:
    return selectors.postmortem_get(number=number)


def _guarded(view: Callable) -> Callable:
    """Turn domain refusals into 403/404 pages."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError as exc:
            return _forbidden(request, exc.message)
        except NotFoundError as exc:
            return _not_found(request, exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _back(request: HttpRequest, number: str, action: Callable, success: str) -> HttpResponse:
    try:
        action()
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        details = "; ".join(m for msgs in exc.fields.values() for m in msgs)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, success)
    wanted = request.POST.get("next", "")
    # Only a same-host relative URL: a forged form must not bounce a signed-in user elsewhere.
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(wanted)
    return redirect(reverse("postmortem-detail", args=[number]))


def _when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def _user_choices():  # noqa: ANN202
    return get_user_model().objects.filter(is_active=True).order_by("username")


# ---- pages -------------------------------------------------------------------------------


@require_GET
def postmortem_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    items = list(selectors.postmortem_list(user=request.user, state=state)[:200])
    now = clock.now()
    for pm in items:
        pm.overdue = pm.is_overdue(now)
    return render(
        request,
        "postmortems/postmortem_list.html",
        {"postmortems": items, "state": state, "statuses": Status.choices},
    )


@require_GET
@_guarded
def postmortem_detail(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    doc, meta = selectors.readable_document(postmortem=pm, user=request.user)
    for entry in doc["timeline"]:
        entry["when"] = _when(entry["at"])
    context = {"pm": pm, "doc": doc, "meta": meta, "now": clock.now()}
    if meta["live"]:
        user = request.user
        context.update(
            can_edit=user.has_perm("postmortems.edit_postmortem"),
            can_review=user.has_perm("postmortems.review_postmortem"),
            entries=pm.entries.all(),
            items=pm.action_items.select_related("owner"),
            reviews=pm.reviews.all()[:20],
            revisions=pm.revisions.all(),
            attendees=pm.attendees.all(),
            users=_user_choices(),
            priorities=ActionItem.Priority.choices,
            item_statuses=ActionItem.Status.choices,
            overdue=pm.is_overdue(clock.now()),
        )
    return render(request, "postmortems/postmortem_detail.html", context)


@require_GET
def postmortem_panel(request: HttpRequest, number: str) -> HttpResponse:
    """A small block for the incident's command page (included with hx-get)."""
    incident = Incident.objects.filter(number=number.upper()).select_related("severity").first()
    if incident is None:
        return _not_found(request, f"No incident {number}.")
    pm = PostMortem.objects.filter(incident=incident).first()
    readable = pm is not None and (
        selectors.can_read_drafts(request.user) or pm.published_revision is not None
    )
    return render(
        request,
        "postmortems/_panel.html",
        {
            "incident": incident,
            "pm": pm,
            "readable": readable,
            "overdue": pm is not None and pm.is_overdue(clock.now()),
            "can_start": pm is None and request.user.has_perm("postmortems.edit_postmortem"),
        },
    )


@require_POST
@_guarded
def postmortem_start(request: HttpRequest, number: str) -> HttpResponse:
    incident = Incident.objects.filter(number=number.upper()).first()
    if incident is None:
        return _not_found(request, f"No incident {number}.")
    services.postmortem_create(incident=incident, actor=request.user, reason="opened by hand")
    return redirect(reverse("postmortem-detail", args=[incident.number]))


@_guarded
def postmortem_edit(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    user = request.user
    if not user.has_perm("postmortems.edit_postmortem"):
        return _forbidden(request, "Your role cannot write post-mortems.")
    values = {key: getattr(pm, key) for key, _ in SECTIONS}
    values["impact_users"] = "" if pm.impact_users is None else pm.impact_users
    chosen = [s.slug for s in pm.impact_services.all()]
    version, errors, notice, status = pm.version, {}, "", 200
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key, _ in SECTIONS}
        data["impact_users"] = request.POST.get("impact_users", "")
        data["impact_services"] = request.POST.getlist("impact_services")
        try:
            version = int(request.POST.get("version", "0"))
        except ValueError:
            version = 0
        try:
            services.postmortem_update(
                postmortem=pm, actor=user, expected_version=version, data=data
            )
        except Conflict as exc:
            services.postmortem_autosave(postmortem=pm, actor=user, base_version=version, data=data)
            notice, status = exc.message, exc.status
            version = exc.extra.get("current_version", pm.version)
            # The form keeps their text; the hidden version is the newer one, so saving again
            # after merging overwrites knowingly.
        except ApplicationError as exc:
            errors, status = exc.fields, exc.status
        else:
            messages.success(request, "Post-mortem saved.")
            return redirect(reverse("postmortem-detail", args=[pm.incident.number]))
        values.update({k: v for k, v in data.items() if k != "impact_services"})
        chosen = data["impact_services"]
    else:
        draft = PostMortemDraft.objects.filter(postmortem=pm, user=user).first()
        if draft is not None:
            values.update(draft.data)
            notice = f"Restored your autosaved draft from {draft.saved_at:%Y-%m-%d %H:%M} UTC."
            if draft.base_version != pm.version:
                notice += (
                    f" {pm.updated_by_name or 'Someone'} saved a newer version since you "
                    "started: compare before saving."
                )
    sections = [(key, heading, values.get(key, "")) for key, heading in SECTIONS]
    return render(
        request,
        "postmortems/postmortem_edit.html",
        {
            "pm": pm,
            "sections": sections,
            "values": values,
            "version": version,
            "errors": errors,
            "notice": notice,
            "services": Service.objects.all(),
            "chosen": chosen,
        },
        status=status,
    )


@require_POST
@_guarded
def postmortem_autosave(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    try:
        base = int(request.POST.get("version", "0"))
    except ValueError:
        base = 0
    data = {key: request.POST.get(key, "") for key, _ in SECTIONS if key in request.POST}
    draft = services.postmortem_autosave(
        postmortem=pm, actor=request.user, base_version=base, data=data
    )
    stale = base != pm.version
    text = f"Draft autosaved at {draft.saved_at:%H:%M:%S} UTC."
    if stale:
        text += f" {pm.updated_by_name or 'Someone'} saved a newer version: reload to compare."
    if request.htmx:
        return HttpResponse(text, headers={"X-Stale": "1" if stale else "0"})
    return JsonResponse({"saved_at": draft.saved_at.isoformat(), "stale": stale})


@require_POST
@_guarded
def postmortem_schedule(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    raw = request.POST.get("meeting_at", "").strip()
    meeting_at = None
    if raw:
        try:
            meeting_at = dt.datetime.fromisoformat(raw)
            if timezone.is_naive(meeting_at):
                meeting_at = timezone.make_aware(meeting_at, timezone.get_current_timezone())
        except ValueError:
            messages.error(request, f"{raw!r} is not a date and time.")
            return redirect(reverse("postmortem-detail", args=[pm.incident.number]))
    ids = [i for i in request.POST.getlist("attendees") if i.isdigit()]
    people = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    return _back(
        request,
        pm.incident.number,
        lambda: services.postmortem_schedule(
            postmortem=pm, actor=request.user, meeting_at=meeting_at, attendees=people
        ),
        "Meeting scheduled; invitations are on their way.",
    )


@require_POST
@_guarded
def postmortem_entry(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    pm = _get(request, number)
    entry = PostMortemTimelineEntry.objects.filter(postmortem=pm, pk=pk).first()
    if entry is None:
        return _not_found(request, "No such timeline line.")
    return _back(
        request,
        number,
        lambda: services.postmortem_entry_update(
            entry=entry,
            actor=request.user,
            text=request.POST.get("text", entry.text),
            included=request.POST.get("included") == "on",
        ),
        "Timeline line saved.",
    )


REVIEW_ACTIONS = {
    "submit": (services.postmortem_submit, "Submitted for review."),
    "approve": (services.postmortem_approve, "Approved."),
    "request_changes": (services.postmortem_request_changes, "Sent back for changes."),
    "publish": (services.postmortem_publish, "Published to stakeholders."),
}


@require_POST
@_guarded
def postmortem_review(request: HttpRequest, number: str) -> HttpResponse:
    pm = _get(request, number)
    action = request.POST.get("action", "")
    if action not in REVIEW_ACTIONS:
        messages.error(request, f"Unknown review action {action!r}.")
        return redirect(reverse("postmortem-detail", args=[number]))
    fn, success = REVIEW_ACTIONS[action]
    kwargs = {"postmortem": pm, "actor": request.user}
    if action != "publish":
        kwargs["comment"] = request.POST.get("comment", "")
    return _back(request, number, lambda: fn(**kwargs), success)


@require_GET
@_guarded
def postmortem_export(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    # Here, not at the top: fpdf (and Pillow) would load with the URLconf, in every process
    # that reverses a URL (a worker's first page or Slack summary), for a rare download.
    from . import export

    pm = _get(request, number)
    doc, _ = selectors.readable_document(postmortem=pm, user=request.user)
    name = f"postmortem-{pm.incident.number}-r{doc['revision']}"
    if fmt == "pdf":
        response = HttpResponse(export.to_pdf(doc), content_type="application/pdf")
    else:
        response = HttpResponse(
            export.to_markdown(doc), content_type="text/markdown; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
