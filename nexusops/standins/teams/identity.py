"""Microsoft identity for the Teams stand-in: app registrations, access tokens, signing keys.

Two issuers are played here, as Microsoft runs them:

* the Microsoft identity platform (``login.microsoftonline.com``): ``POST
  /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials`` gives an app an access
  token for one resource (``scope=<resource>/.default``) carrying the application
  permissions (``roles``) an administrator granted it; Graph wants tenant-scoped tokens, the
  Bot Framework connector wants ``botframework.com`` (multi-tenant bots) or the bot's tenant.
* the Bot Framework token issuer (``https://api.botframework.com``), which signs the
  activities the Bot Connector sends to a bot's messaging endpoint. Its OpenID metadata and
  JWKS are served at ``/v1/.well-known/openidconfiguration`` and ``/v1/.well-known/keys``; each
  key carries ``endorsements`` (the channels it may sign for). ``rotate()`` swaps in a new key,
  as Microsoft does every few weeks.

Access tokens handed to apps are opaque here (a bot must not parse them anyway); the stand-in
remembers what each one grants.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

GRAPH_RESOURCE = "https://graph.microsoft.com"
BOT_RESOURCE = "https://api.botframework.com"
BOT_ISSUER = "https://api.botframework.com"
BOT_TENANT = "botframework.com"
TOKEN_LIFETIME = 3599


@dataclass
class AppRegistration:
    """An Entra ID app: its secret and the Graph application permissions granted to it."""

    app_id: str
    secret: str
    tenant: str
    roles: set[str] = field(default_factory=set)


@dataclass
class Grant:
    app_id: str
    resource: str
    tenant: str
    roles: frozenset[str]
    expires_at: float


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, endorsements: list[str]) -> dict[str, Any]:
        public = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(public.n),
            "e": _b64(public.e),
            "endorsements": endorsements,
        }


class Identity:
    """App registrations, the tokens issued to them, and the Bot Framework signing keys."""

    endorsements = ["msteams"]

    def __init__(self) -> None:
        self.apps: dict[str, AppRegistration] = {}
        self.grants: dict[str, Grant] = {}
        self.keys = [SigningKey()]

    def rotate(self) -> str:
        """A new current signing key; the old one stays published for a while, as Microsoft's."""
        self.keys.insert(0, SigningKey())
        del self.keys[2:]
        return self.keys[0].kid

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk(self.endorsements) for key in self.keys]}

    def openid_configuration(self, base_url: str) -> dict[str, Any]:
        return {
            "issuer": BOT_ISSUER,
            "authorization_endpoint": f"{base_url}/v1/.well-known/authorize",
            "jwks_uri": f"{base_url}/v1/.well-known/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    # --- client credentials ---------------------------------------------------------------
    def issue(self, tenant: str, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The token endpoint's answer (status, body), with AADSTS codes as Microsoft's."""
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error("unsupported_grant_type", "AADSTS70003", "grant_type")
        app = self.apps.get(str(form.get("client_id", "")))
        if app is None:
            return 400, _aad_error(
                "unauthorized_client", "AADSTS700016", "Application not found in the directory"
            )
        if not secrets.compare_digest(str(form.get("client_secret", "")), app.secret):
            return 401, _aad_error("invalid_client", "AADSTS7000215", "Invalid client secret")
        scope = str(form.get("scope", ""))
        if not scope.endswith("/.default"):
            return 400, _aad_error("invalid_scope", "AADSTS1002012", "scope must be /.default")
        resource = scope[: -len("/.default")]
        if resource == BOT_RESOURCE:
            if tenant not in (BOT_TENANT, app.tenant):
                return 400, _aad_error("invalid_request", "AADSTS90002", f"Tenant {tenant}")
            roles: frozenset[str] = frozenset()
        elif resource == GRAPH_RESOURCE:
            if tenant != app.tenant:
                return 400, _aad_error(
                    "unauthorized_client", "AADSTS700016", f"Application not found in {tenant}"
                )
            roles = frozenset(app.roles)
        else:
            return 400, _aad_error("invalid_resource", "AADSTS500011", f"{resource} not found")
        token = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(32)
        self.grants[token] = Grant(
            app.app_id, resource, tenant, roles, time.time() + TOKEN_LIFETIME
        )
        body = {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "access_token": token}
        return 200, {**body, "ext_expires_in": TOKEN_LIFETIME}

    def grant_for(self, authorization: str, resource: str) -> Grant | None:
        """The live grant behind ``Authorization: Bearer ...`` for ``resource``, or None."""
        if not authorization.startswith("Bearer "):
            return None
        grant = self.grants.get(authorization[len("Bearer ") :])
        if grant is None or grant.resource != resource or grant.expires_at < time.time():
            return None
        return grant

    # --- activities to the bot ------------------------------------------------------------
    def sign_activity(self, *, audience: str, service_url: str, lifetime: int = 300) -> str:
        """The ``Authorization`` bearer the Bot Connector puts on an activity it delivers."""
        now = int(time.time())
        claims = {
            "iss": BOT_ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + lifetime,
        }
        key = self.keys[0]
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})


def _aad_error(error: str, code: str, description: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"{code}: {description}",
        "error_codes": [int(code[len("AADSTS") :])],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
