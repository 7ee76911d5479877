"""DRF authentication for personal API tokens (``Authorization: Token nxp_...``).

Keys without the ``nxp_`` prefix are left to DRF's TokenAuthentication (integration tokens),
which comes next in ``DEFAULT_AUTHENTICATION_CLASSES``; a personal key that is unknown,
expired or revoked is refused here with 401 and never reaches it.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .services.tokens import PREFIX, personal_token_authenticate


class PersonalTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):  # noqa: ANN201
        if not key.startswith(PREFIX):
            return None
        token = personal_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    """How the schema (/api/schema/) describes a personal token; loaded with this module."""

    target_class = "accounts.authentication.PersonalTokenAuthentication"
    name = "personalTokenAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's own token, from /profile/tokens/: `Token nxp_...`",
        }
