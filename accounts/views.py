"""Sign-in pages: the login page with its SSO buttons, and the OpenID Connect redirect flow."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from mozilla_django_oidc.utils import generate_code_challenge

from nexusops.common.errors import ApplicationError

from . import oidc
from .backends import local_passwords_enabled
from .services.sso import sso_sign_in

logger = logging.getLogger("nexusops.sso")
SESSION_KEY = "sso_flows"
# Sign-ins started and not finished, per browser session; the oldest is dropped past this.
MAX_PENDING = 10


class LoginForm(AuthenticationForm):
    def get_invalid_login_error(self) -> ValidationError:
        if not local_passwords_enabled():
            return ValidationError(
                "Password sign-in is switched off here: use single sign-on. "
                "(A superuser's password still works, for when the provider is down.)",
                code="invalid_login",
            )
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    """Django's login page, with a "Sign in with <name>" button per configured provider.

    With local passwords off the form is hidden unless ``?local=1`` (the break-glass way in).
    """

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):  # noqa: ANN003, ANN201
        context = super().get_context_data(**kwargs)
        next_url = self.get_redirect_url()
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        context["sso_providers"] = [
            {"name": p.name, "url": reverse("sso-start", args=[p.slug]) + query}
            for p in oidc.providers()
        ]
        if settings.SAML_IDP_METADATA_URL:
            context["sso_providers"].append(
                {"name": settings.SAML_NAME, "url": reverse("saml2_login") + query}
            )
        context["local_passwords"] = local_passwords_enabled()
        context["show_password_form"] = (
            context["local_passwords"]
            or self.request.GET.get("local") == "1"
            or self.request.method == "POST"
            or not context["sso_providers"]
        )
        return context


def _failed(request: HttpRequest, error: oidc.SsoError, *, status: int) -> HttpResponse:
    provider = error.provider
    logger.warning("sso: sign-in with %s failed: %s", provider.slug, error.reason)
    return render(
        request,
        "accounts/sso_error.html",
        {
            "provider": provider,
            "reason": error.reason,
            "unavailable": isinstance(error, oidc.ProviderUnavailable),
            "local_passwords": local_passwords_enabled(),
        },
        status=status,
    )


def _provider(slug: str) -> oidc.Provider:
    provider = oidc.provider_get(slug)
    if provider is None:
        raise Http404("No such sign-in provider.")
    return provider


def _redirect_uri(request: HttpRequest, provider: oidc.Provider) -> str:
    return request.build_absolute_uri(reverse("sso-callback", args=[provider.slug]))


@login_not_required
@require_GET
def sso_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the browser to the provider: authorization code flow, PKCE (S256), state, nonce."""
    provider = _provider(slug)
    try:
        config = oidc.discovery(provider)
    except oidc.ProviderUnavailable as exc:
        return _failed(request, exc, status=502)
    state = get_random_string(32)
    nonce = get_random_string(32)
    verifier = get_random_string(64)
    next_url = request.GET.get("next", "")
    pending = dict(request.session.get(SESSION_KEY) or {})
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda s: pending[s]["started"]))
    pending[state] = {
        "provider": provider.slug,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "started": time.time(),
    }
    request.session[SESSION_KEY] = pending
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": _redirect_uri(request, provider),
        "scope": provider.scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": generate_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    endpoint = config["authorization_endpoint"]
    separator = "&" if "?" in endpoint else "?"
    return redirect(f"{endpoint}{separator}{urlencode(params)}")


@login_not_required
@require_GET
def sso_callback(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the provider sends the browser back: check state, exchange the code, sign in."""
    provider = _provider(slug)
    state = request.GET.get("state", "")
    pending = dict(request.session.get(SESSION_KEY) or {})
    # Popped before anything else: a state is good for exactly one try, so a replayed
    # callback URL (or one from another browser) is refused.
    flow = pending.pop(state, None) if state else None
    request.session[SESSION_KEY] = pending
    if flow is None or flow["provider"] != provider.slug:
        return _failed(
            request,
            oidc.SignInRefused(
                provider,
                "this sign-in's state is unknown or was already used (a replayed or forged "
                "callback); start again from the sign-in page",
            ),
            status=400,
        )
    if request.GET.get("error"):
        description = request.GET.get("error_description", "")
        return _failed(
            request,
            oidc.SignInRefused(
                provider,
                f"the provider said {request.GET['error']}"
                + (f": {description}" if description else ""),
            ),
            status=400,
        )
    code = request.GET.get("code", "")
    if not code:
        return _failed(request, oidc.SignInRefused(provider, "no code came back"), status=400)
    try:
        backend = oidc.OidcBackend(provider)
        claims = backend.sign_in_claims(
            code=code,
            redirect_uri=_redirect_uri(request, provider),
            nonce=flow["nonce"],
            code_verifier=flow["verifier"],
        )
    except oidc.ProviderUnavailable as exc:
        return _failed(request, exc, status=502)
    except oidc.SignInRefused as exc:
        return _failed(request, exc, status=400)
    try:
        result = sso_sign_in(
            provider=provider.slug, claims=claims, groups_claim=provider.groups_claim
        )
    except ApplicationError as exc:
        return _failed(request, oidc.SignInRefused(provider, exc.message), status=exc.status)
    auth.login(request, result.user, backend="accounts.oidc.OidcBackend")
    next_url = flow.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)
