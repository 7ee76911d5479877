"""SAML 2.0 sign-in on djangosaml2 / pysaml2, for providers that do not speak OpenID Connect.

The identity provider is configured from its metadata (``SAML_IDP_METADATA_URL``); responses
must be signed with the key in that metadata (pysaml2 verifies with xmlsec1). A verified
assertion becomes the same claims an OpenID Connect sign-in gives (NameID as ``sub``, the
``mail`` and groups attributes), so accounts and roles follow the one set of rules in
:mod:`accounts.services.sso`, with ``saml`` as the provider.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend

from nexusops.common.errors import ApplicationError

from .backends import local_passwords_enabled
from .services.sso import sso_sign_in

logger = logging.getLogger("nexusops.sso")
PROVIDER = "saml"


def enabled() -> bool:
    return bool(getattr(settings, "SAML_IDP_METADATA_URL", ""))


class SamlBackend(Saml2Backend):
    """Turns a verified assertion into a sign-in through :func:`sso_sign_in`."""

    def authenticate(  # noqa: ANN201
        self,
        request,  # noqa: ANN001
        session_info=None,  # noqa: ANN001
        attribute_mapping=None,  # noqa: ANN001
        create_unknown_user=True,  # noqa: ANN001
        assertion_info=None,  # noqa: ANN001
        **kwargs,  # noqa: ANN003
    ):
        if not session_info or not enabled():
            return None
        ava = session_info.get("ava") or {}
        name_id = session_info.get("name_id")

        def first(name: str) -> str:
            values = ava.get(name) or []
            return str(values[0]) if values else ""

        claims = {
            "sub": getattr(name_id, "text", "") or "",
            "email": first(settings.SAML_EMAIL_ATTRIBUTE),
            # A SAML e-mail is never taken as proof to adopt an existing local account.
            "email_verified": False,
            "preferred_username": first("uid"),
            "given_name": first("givenName"),
            "family_name": first("sn"),
            "groups": [str(g) for g in ava.get(settings.SAML_GROUPS_ATTRIBUTE) or []],
        }
        try:
            return sso_sign_in(provider=PROVIDER, claims=claims).user
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc


def _failure(request: HttpRequest, exception=None, status=403, **kwargs) -> HttpResponse:  # noqa: ANN001, ANN003
    reason = str(exception) if exception else "the response could not be verified"
    if exception is not None and type(exception).__name__ == "SignatureError":
        reason = "the response's signature does not verify with the provider's key"
    logger.warning("sso: sign-in with %s failed: %s", PROVIDER, reason)
    return render(
        request,
        "accounts/sso_error.html",
        {
            "provider": {"name": settings.SAML_NAME},
            "retry_url": reverse("saml2_login"),
            "reason": reason,
            "unavailable": False,
            "local_passwords": local_passwords_enabled(),
        },
        status=status,
    )


class _Enabled:
    def dispatch(self, request, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        if not enabled():
            raise Http404("SAML sign-in is not configured.")
        return super().dispatch(request, *args, **kwargs)


class LoginView(_Enabled, saml_views.LoginView):
    pass


class AcsView(_Enabled, saml_views.AssertionConsumerServiceView):
    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):  # noqa: ANN001, ANN003, ANN201
        return _failure(request, exception, status, **kwargs)


class MetadataView(_Enabled, saml_views.MetadataView):
    pass


saml_login = login_not_required(LoginView.as_view())
saml_acs = login_not_required(AcsView.as_view())
saml_metadata = login_not_required(MetadataView.as_view())
