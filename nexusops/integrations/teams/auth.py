"""Checking that an inbound activity really comes from the Bot Framework (Teams).

The Bot Connector signs every activity it delivers with a bearer JWT. Per Microsoft's
"Authenticate requests from the Bot Connector service", a bot must check:

1. the ``Authorization: Bearer`` header is there;
2. the token is RS256-signed by a key from the JWKS named in the Bot Framework OpenID metadata
   (``TEAMS_OPENID_URL``); keys are cached, and an unknown ``kid`` refreshes them once
   (Microsoft rotates keys), at most every :data:`REFRESH_COOLDOWN` seconds;
3. ``iss`` is ``https://api.botframework.com`` (``TEAMS_BOT_ISSUER``);
4. ``aud`` is our bot's app id;
5. it is within ``nbf``..``exp`` (five minutes of clock skew allowed, as the SDKs do);
6. the signing key is endorsed for the activity's ``channelId`` (``msteams``);
7. the ``serviceurl`` claim equals the activity's ``serviceUrl`` (so a captured token cannot
   send us to another connector).

:class:`InvalidSignature` (status 401) says which failed; nothing else is trusted.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from nexusops.integrations.errors import InvalidSignature, VendorUnavailable

VENDOR = "teams"
LEEWAY = 300
REFRESH_COOLDOWN = 30.0
MAX_AGE = 24 * 3600.0


@dataclass
class _KeySet:
    keys: dict[str, tuple[Any, list[str]]]  # kid -> (public key, endorsements)
    fetched_at: float


_cache: dict[str, _KeySet] = {}
_lock = threading.Lock()


def _fetch_keys(openid_url: str, timeout: float) -> _KeySet:
    import jwt
    import requests

    try:
        metadata = requests.get(openid_url, timeout=timeout).json()
        jwks = requests.get(str(metadata["jwks_uri"]), timeout=timeout).json()
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise VendorUnavailable(f"Bot Framework keys unavailable: {exc}", vendor=VENDOR) from exc
    keys: dict[str, tuple[Any, list[str]]] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
        keys[str(jwk["kid"])] = (public, [str(e) for e in jwk.get("endorsements") or []])
    return _KeySet(keys, time.monotonic())


def _key(openid_url: str, kid: str, timeout: float) -> tuple[Any, list[str]] | None:
    with _lock:
        cached = _cache.get(openid_url)
    now = time.monotonic()
    stale = cached is None or now - cached.fetched_at > MAX_AGE
    unknown = cached is not None and kid not in cached.keys
    if stale or (unknown and now - cached.fetched_at > REFRESH_COOLDOWN):  # type: ignore[union-attr]
        cached = _fetch_keys(openid_url, timeout)
        with _lock:
            _cache[openid_url] = cached
    assert cached is not None
    return cached.keys.get(kid)


def forget_keys() -> None:
    """Drop every cached key set (tests that rotate the issuer's keys start clean)."""
    with _lock:
        _cache.clear()


def verify_activity(
    authorization: str,
    activity: dict[str, Any],
    *,
    openid_url: str,
    issuer: str,
    app_id: str,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The token's claims when ``authorization`` proves ``activity`` came from the Bot Framework."""
    if not authorization.startswith("Bearer "):
        raise InvalidSignature("missing Bot Framework bearer token", vendor=VENDOR)
    token = authorization[len("Bearer ") :].strip()
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidSignature(f"malformed token: {exc}", vendor=VENDOR) from exc
    if header.get("alg") != "RS256":
        raise InvalidSignature("token is not RS256-signed", vendor=VENDOR)
    found = _key(openid_url, str(header.get("kid") or ""), timeout)
    if found is None:
        raise InvalidSignature("token signed by an unknown key", vendor=VENDOR)
    public, endorsements = found
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=app_id,
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidSignature(f"token refused: {exc}", vendor=VENDOR) from exc
    channel = str(activity.get("channelId") or "")
    if channel not in endorsements:
        raise InvalidSignature(f"key is not endorsed for channel {channel!r}", vendor=VENDOR)
    service_url = str(activity.get("serviceUrl") or "")
    if claims.get("serviceurl", "").rstrip("/") != service_url.rstrip("/"):
        raise InvalidSignature("serviceUrl does not match the token", vendor=VENDOR)
    return claims
