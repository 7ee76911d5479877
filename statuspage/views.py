"""The public status page (no login, no JavaScript needed) and the command page's publish panel.

Public views are marked ``login_not_required``. Emailed links (confirm, unsubscribe) show a
page with one button: a mail scanner that follows links changes nothing, a person clicks once.
The publish panel answers htmx with the refreshed partial and a plain POST with a redirect back
to the command page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from incidents.selectors import incident_for_panel
from nexusops.common import ratelimit
from nexusops.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from nexusops.common.views import forbidden

from . import feeds, forms, selectors, services
from .models import Subscriber

# ---- public pages ----------------------------------------------------------------------


@login_not_required
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    return render(request, "status/status_page.html", selectors.status_page())


@login_not_required
@require_GET
def status_incident(request: HttpRequest, number: str) -> HttpResponse:
    try:
        incident = selectors.public_incident(number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    return render(request, "status/incident.html", {"incident": incident})


status_feed = login_not_required(feeds.PublicUpdatesFeed())


@login_not_required
@require_http_methods(["GET", "POST"])
def status_subscribe(request: HttpRequest) -> HttpResponse:
    form = forms.SubscribeForm(request.POST or None)
    context: dict = {"form": form, "errors": {}, "email": ""}
    status = 200
    if request.method == "POST":
        form.is_valid()
        context["email"] = form.cleaned_data.get("email", "")
        if not ratelimit.allow(
            "status-subscribe",
            ratelimit.client_address(request),
            limit=settings.STATUS_SUBSCRIBE_PER_CLIENT,
            window_seconds=600,
        ):
            context["errors"] = {
                "email": ["Too many subscribe requests from your network; try again later."]
            }
            return render(request, "status/subscribe.html", context, status=429)
        try:
            result = services.subscriber_subscribe(email=context["email"])
        except ApplicationError as exc:
            context["errors"] = exc.fields or {"email": [exc.message]}
            status = exc.status
        else:
            context["done"] = result.outcome
            context["email"] = result.subscriber.email
    return render(request, "status/subscribe.html", context, status=status)


def _token_page(request: HttpRequest, token: str, *, action, template: str) -> HttpResponse:  # noqa: ANN001
    """GET shows the address and one button; POST calls ``action(token=...)``."""
    context: dict = {"token": token}
    if request.method == "POST":
        try:
            context["subscriber"] = action(token=token)
            context["done"] = True
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, template, context, status=exc.status)
        return render(request, template, context)
    subscriber = Subscriber.objects.filter(token=token).first() if token else None
    if subscriber is None:
        context["error"] = "This link is not valid (it may be old, or mistyped)."
        return render(request, template, context, status=404)
    context["subscriber"] = subscriber
    return render(request, template, context)


@login_not_required
@require_http_methods(["GET", "POST"])
def status_subscribe_confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _token_page(
        request,
        token,
        action=services.subscriber_confirm,
        template="status/subscribe_confirm.html",
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def status_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    return _token_page(
        request, token, action=services.subscriber_unsubscribe, template="status/unsubscribe.html"
    )


# ---- the command page's publish panel (signed in) ---------------------------------------------


def _incident(number: str):  # noqa: ANN202 - an Incident
    try:
        return incident_for_panel(number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _back(request: HttpRequest, number: str, wanted: str = "") -> HttpResponse:
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(wanted)
    return redirect("incident-detail", number)


@require_http_methods(["GET", "POST"])
def status_publish(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the publish form (a partial for htmx, a page otherwise); POST: publish."""
    incident = _incident(number)
    if not request.user.has_perm("incidents.drive_incident"):
        # The service refuses too; this keeps the form from being shown at all.
        return forbidden(request, "Your role cannot publish status page updates.")
    partial = "status/_publish_form.html"
    if request.method == "GET":
        context = {"status_publish": selectors.publish_form_context(incident=incident)}
        if request.htmx:
            return render(request, partial, context)
        return render(request, "status/publish.html", context)

    form = forms.PublishForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    components = services.incident_components(incident)
    try:
        update = services.public_update_publish(
            incident=incident,
            actor=request.user,
            stage=data.get("stage", ""),
            title=data.get("title", ""),
            message=data.get("message", ""),
            component_statuses=selectors.component_statuses_from_form(request.POST, components),
        )
    except PermissionDeniedError as exc:
        return forbidden(request, exc.message)
    except ApplicationError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return _back(request, incident.number, data.get("next", ""))
        context = {
            "status_publish": selectors.publish_form_context(
                incident=incident, data=request.POST, errors=exc.fields
            ),
            "error": exc.message,
        }
        return render(request, partial, context, status=exc.status)
    notice = f"Published “{update.get_stage_display()}” on the status page."
    if not request.htmx:
        messages.success(request, notice)
        return _back(request, incident.number, data.get("next", ""))
    context = {
        "status_publish": selectors.publish_form_context(incident=incident),
        "notice": notice,
    }
    response = render(request, partial, context)
    # Publishing moves the incident (its first-update clock, its version): the command page
    # refreshes now rather than at its next 2 s poll, so the next click carries the new version.
    response["HX-Trigger"] = "incident-changed"
    return response
