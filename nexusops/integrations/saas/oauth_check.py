"""The OAuth 2.0 / OpenID Connect provider (runbook 5.1, "verify OAuth provider status").

Reads the discovery document (``<issuer>/.well-known/openid-configuration``; its ``issuer``
must be the one configured), the key set at its ``jwks_uri`` (each key must parse as a JWK
with PyJWT; at least one signing key), then a token round-trip: a client-credentials token
from the ``token_endpoint``, checked at the ``introspection_endpoint`` when the provider has
one, or at ``introspection_url`` when it does not publish it (django-oauth-toolkit's
``/o/introspect/``): the token must be active and for our client.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

from . import Health, base_url

if TYPE_CHECKING:
    import requests  # imported by the check itself, as is jwt: not at start-up

VENDOR = "oauth"


def _json(session: requests.Session, method: str, url: str, what: str, **kw: Any) -> dict:
    import requests

    try:
        response = session.request(method, url, timeout=getattr(session, "timeout", 10), **kw)
    except requests.RequestException as exc:
        raise VendorUnavailable(f"{what}: {exc}", vendor=VENDOR) from None
    if response.status_code >= 500:
        raise VendorUnavailable(
            f"{what}: HTTP {response.status_code}", vendor=VENDOR, status=response.status_code
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict):
        detail = (
            body.get("error_description") or body.get("error")
            if isinstance(body, dict)
            else response.text[:200]
        )
        raise VendorRejected(
            f"{what}: HTTP {response.status_code} {detail}",
            vendor=VENDOR,
            status=response.status_code,
        )
    return body


def oauth_health(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    introspection_url: str = "",
    timeout: float = 10.0,
) -> Health:
    issuer = base_url(issuer, vendor=VENDOR, setting="OAUTH_CHECK_ISSUER")
    if not client_id or not client_secret:
        raise NotConfigured(
            "set OAUTH_CHECK_CLIENT_ID and OAUTH_CHECK_CLIENT_SECRET", vendor=VENDOR
        )
    import jwt
    import requests

    findings: list[str] = []
    session = requests.Session()
    session.timeout = timeout  # type: ignore[attr-defined]
    started = time.monotonic()
    discovery = _json(
        session, "GET", f"{issuer}/.well-known/openid-configuration", "discovery document"
    )
    if discovery.get("issuer", "").rstrip("/") != issuer:
        findings.append(
            f"the discovery document names issuer {discovery.get('issuer')!r}, "
            f"not {issuer!r}: every token will fail its issuer check"
        )
    missing = [k for k in ("jwks_uri", "token_endpoint") if not discovery.get(k)]
    if missing:
        raise VendorRejected(f"discovery document lacks {', '.join(missing)}", vendor=VENDOR)
    keys = _json(session, "GET", discovery["jwks_uri"], "key set")
    try:
        key_set = jwt.PyJWKSet.from_dict(keys)
    except jwt.PyJWTError as exc:
        raise VendorRejected(f"key set: not a usable JWKS ({exc})", vendor=VENDOR) from None
    signing = [k for k in key_set.keys if k.public_key_use in (None, "sig")]
    if not signing:
        findings.append("the key set has no signing key: id_tokens cannot be verified")
    token = _json(
        session,
        "POST",
        discovery["token_endpoint"],
        "token request",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
    )
    access = token.get("access_token")
    if not access:
        raise VendorRejected("token request: no access_token in the answer", vendor=VENDOR)
    introspected: dict = {}
    introspection = introspection_url or discovery.get("introspection_endpoint")
    if introspection:
        introspected = _json(
            session,
            "POST",
            introspection,
            "token introspection",
            data={"token": access},
            auth=(client_id, client_secret),
        )
        if not introspected.get("active"):
            findings.append("the provider says the token it just issued is not active")
        elif introspected.get("client_id") not in (None, client_id):
            findings.append(f"the token is for client {introspected.get('client_id')!r}")
    elapsed = round((time.monotonic() - started) * 1000)
    figures = {
        "issuer": discovery.get("issuer"),
        "keys": [k.key_id for k in key_set.keys],
        "algorithms": discovery.get("id_token_signing_alg_values_supported", []),
        "token_type": token.get("token_type"),
        "expires_in": token.get("expires_in"),
        "introspected": bool(introspected),
        "round_trip_ms": elapsed,
    }
    summary = (
        f"{issuer}: discovery and {len(key_set.keys)} keys read, client-credentials "
        f"token issued{' and introspected active' if introspected.get('active') else ''}"
        f" in {elapsed} ms"
    )
    return Health(VENDOR, not findings, summary, findings, figures)
