"""OpenID Connect sign-in on mozilla-django-oidc: discovery, code flow with PKCE, checks.

mozilla-django-oidc does the token exchange, JWKS lookup, signature and nonce checks and the
userinfo call. Around it this module adds what it lacks: several providers configured from the
environment (``settings.SSO_OIDC_PROVIDERS``), endpoints found by discovery, and a strict
id_token check (audience, issuer, expiry, signing algorithm) whose failures say what was wrong.

Every failure is one of two exceptions, each carrying a sentence for the person and the log:
:class:`ProviderUnavailable` (the provider is down or misconfigured: a 502 page) and
:class:`SignInRefused` (what came back does not prove who the person is: a 400 page).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

logger = logging.getLogger("nexusops.sso")
DISCOVERY_TTL = 3600.0
# Clock skew allowed between us and the provider when checking exp/iat.
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Provider:
    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    groups_claim: str = "groups"
    scopes: str = "openid email profile groups"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def providers() -> list[Provider]:
    return [Provider(**p) for p in settings.SSO_OIDC_PROVIDERS]


def provider_get(slug: str) -> Provider | None:
    return next((p for p in providers() if p.slug == slug), None)


class SsoError(Exception):
    def __init__(self, provider: Provider, reason: str) -> None:
        super().__init__(reason)
        self.provider = provider
        self.reason = reason


class ProviderUnavailable(SsoError):
    """The provider cannot be reached, or refuses our client: nobody can sign in with it."""


class SignInRefused(SsoError):
    """What came back does not prove who the person is (bad token, replayed state, ...)."""


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovered_lock = threading.Lock()


def discovery(provider: Provider) -> dict[str, Any]:
    """The provider's ``.well-known/openid-configuration``, cached for an hour per process."""
    with _discovered_lock:
        cached = _discovered.get(provider.discovery_url)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
            return cached[1]
    try:
        response = requests.get(provider.discovery_url, timeout=settings.SSO_TIMEOUT_SECONDS)
        response.raise_for_status()
        config = response.json()
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            provider,
            f"its discovery document {provider.discovery_url} cannot be read ({_cause(exc)})",
        ) from exc
    except ValueError as exc:
        raise ProviderUnavailable(
            provider, f"its discovery document {provider.discovery_url} is not JSON"
        ) from exc
    missing = [
        key
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not config.get(key)
    ]
    if missing:
        raise ProviderUnavailable(provider, f"its discovery document lacks {', '.join(missing)}")
    if config["issuer"].rstrip("/") != provider.issuer:
        raise ProviderUnavailable(
            provider,
            f"its discovery document names issuer {config['issuer']!r}, "
            f"not OIDC_{provider.slug.upper()}_ISSUER {provider.issuer!r}",
        )
    with _discovered_lock:
        _discovered[provider.discovery_url] = (time.monotonic(), config)
    return config


def discovery_forget() -> None:
    with _discovered_lock:
        _discovered.clear()


def _cause(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no route to it"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {settings.SSO_TIMEOUT_SECONDS:g} s"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


class OidcBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend for one provider, configured from its discovery document.

    Listed in AUTHENTICATION_BACKENDS only so Django can load a signed-in person's user on
    later requests (``get_user``); ``authenticate()`` never signs anyone in by itself: the
    callback view calls :meth:`sign_in` with the state it checked.
    """

    def __init__(self, provider: Provider | None = None) -> None:  # noqa: D107
        self.UserModel = get_user_model()
        self.provider = provider
        if provider is None:
            return
        config = discovery(provider)
        self.config = config
        self.OIDC_OP_TOKEN_ENDPOINT = config["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = config.get("userinfo_endpoint", "")
        self.OIDC_OP_JWKS_ENDPOINT = config["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = provider.client_secret
        algs = config.get("id_token_signing_alg_values_supported") or ["RS256"]
        # Asymmetric only: an HS256 token would be "signed" with our own client secret.
        self.OIDC_RP_SIGN_ALGO = next(
            (a for a in ("RS256", "ES256", "RS512", "PS256") if a in algs), "RS256"
        )
        self.OIDC_RP_IDP_SIGN_KEY = None

    def get_settings(self, attr: str, *args: Any) -> Any:  # type: ignore[override]
        fixed = {
            "OIDC_TIMEOUT": settings.SSO_TIMEOUT_SECONDS,
            "OIDC_VERIFY_SSL": True,
            "OIDC_PROXY": None,
            "OIDC_USE_NONCE": True,
            "OIDC_ALLOW_UNSECURED_JWT": False,
            "OIDC_TOKEN_USE_BASIC_AUTH": False,
            "OIDC_STORE_ACCESS_TOKEN": False,
            "OIDC_STORE_ID_TOKEN": False,
            "OIDC_RP_SCOPES": self.provider.scopes if self.provider else "openid",
        }
        if attr in fixed:
            return fixed[attr]
        return args[0] if args else None

    def authenticate(self, request, **kwargs):  # noqa: ANN001, ANN201
        return None

    # --- the strict id_token check -------------------------------------------------------
    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"the id_token is not a JWT ({exc})") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"the id_token is signed with {header.get('alg')!r}, not {self.OIDC_RP_SIGN_ALGO}"
            )
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.config["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise SuspiciousOperation(
                "the id_token's signature does not verify with the provider's published keys"
            ) from exc
        except jwt.ExpiredSignatureError as exc:
            raise SuspiciousOperation("the id_token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise SuspiciousOperation(
                f"the id_token was issued to another client, not {self.OIDC_RP_CLIENT_ID!r}"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise SuspiciousOperation(
                f"the id_token was issued by someone else, not {self.config['issuer']!r}"
            ) from exc
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"the id_token is not valid ({exc})") from exc

    # --- the flow --------------------------------------------------------------------------
    def sign_in_claims(
        self, *, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> dict[str, Any]:
        """Exchange ``code`` for tokens and return the verified claims (id_token + userinfo)."""
        provider = self.provider
        assert provider is not None
        try:
            tokens = self.get_token(
                {
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                }
            )
        except requests.HTTPError as exc:
            raise self._token_refusal(exc) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                provider, f"its token endpoint cannot be reached ({_cause(exc)})"
            ) from exc
        id_token = tokens.get("id_token")
        if not id_token:
            raise SignInRefused(provider, "the provider sent no id_token (is 'openid' a scope?)")
        try:
            claims = self.verify_token(id_token, nonce=nonce)
        except SuspiciousOperation as exc:
            reason = str(exc)
            if reason == "JWT Nonce verification failed.":
                reason = "the id_token's nonce is not this sign-in's (a replayed token)"
            raise SignInRefused(provider, reason) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                provider, f"its signing keys cannot be read ({_cause(exc)})"
            ) from exc
        userinfo: dict[str, Any] = {}
        if self.OIDC_OP_USER_ENDPOINT and tokens.get("access_token"):
            try:
                userinfo = self.get_userinfo(tokens["access_token"], id_token, claims)
            except requests.RequestException as exc:
                raise ProviderUnavailable(
                    provider, f"its userinfo endpoint failed ({_cause(exc)})"
                ) from exc
            if str(userinfo.get("sub")) != str(claims["sub"]):
                raise SignInRefused(provider, "userinfo is about someone else than the id_token")
        # The signed id_token wins where both say something.
        return {**userinfo, **claims}

    def _token_refusal(self, exc: requests.HTTPError) -> SsoError:
        provider = self.provider
        assert provider is not None
        response = exc.response
        error = ""
        try:
            error = str(response.json().get("error", "")) if response is not None else ""
        except ValueError:
            pass
        status = response.status_code if response is not None else "?"
        if error == "invalid_client" or status == 401:
            prefix = f"OIDC_{provider.slug.upper()}_"
            return ProviderUnavailable(
                provider,
                f"it refused NexusOps's client credentials (HTTP {status} {error}): "
                f"check {prefix}CLIENT_ID and {prefix}CLIENT_SECRET",
            )
        if error == "invalid_grant":
            return SignInRefused(
                provider,
                "it refused the sign-in code (invalid_grant): it was already used or has expired",
            )
        if isinstance(status, int) and status >= 500:
            return ProviderUnavailable(provider, f"its token endpoint failed (HTTP {status})")
        return SignInRefused(provider, f"its token endpoint said HTTP {status} {error}".strip())
