"""Integration tokens: ``nxa_<prefix>_<secret>``, stored as sha256 of the secret.

The prefix finds the source in one indexed lookup and stays the same across rotations; a
rotation keeps the previous hash valid for a grace period so senders can be re-configured
without losing alerts (two active hashes).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.common.services import Permissions

from ..models import AlertSource

TOKEN_PREFIX = "nxa"
DEFAULT_GRACE = dt.timedelta(hours=24)


class AuthFailed(Exception):
    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


require = Permissions("alerts", {"change_alertsource": "manage alert integrations"}).require


@transaction.atomic
def alert_source_create(
    *,
    name: str,
    kind: str,
    actor: User | None,
    token: str | None = None,
    max_body_bytes: int = 1_048_576,
) -> tuple[AlertSource, str]:
    """Create an integration; returns it and its token (shown once, stored hashed).

    ``token`` is for the embedded demo only (a known token the seeder can print).
    """
    require(actor, "change_alertsource")
    if kind not in AlertSource.Kind.values:
        raise ApplicationError(f"Unknown kind {kind!r}.", fields={"kind": ["Unknown kind."]})
    if not name.strip():
        raise ApplicationError("A name is required.", fields={"name": ["Required."]})
    if token is not None:
        prefix, secret = _split(token)
        if prefix is None:
            raise ApplicationError("A token looks like nxa_<prefix>_<secret>.")
    else:
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    source = AlertSource.objects.create(
        name=name.strip(),
        kind=kind,
        token_prefix=prefix,
        token_hash=_hash(secret),
        max_body_bytes=max_body_bytes,
    )
    return source, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def alert_source_rotate_token(
    *,
    source: AlertSource | int,
    actor: User | None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> str:
    """A new token; the old one keeps working for ``grace`` (0 revokes it now)."""
    require(actor, "change_alertsource")
    pk = source.pk if isinstance(source, AlertSource) else source
    row = AlertSource.objects.select_for_update().get(pk=pk)
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    row.previous_token_hash = row.token_hash if grace > dt.timedelta(0) else ""
    row.previous_token_expires_at = now + grace if grace > dt.timedelta(0) else None
    row.token_hash = _hash(secret)
    row.token_rotated_at = now
    row.save(
        update_fields=[
            "previous_token_hash",
            "previous_token_expires_at",
            "token_hash",
            "token_rotated_at",
        ]
    )
    transaction.on_commit(sources_cache_clear)
    return f"{TOKEN_PREFIX}_{row.token_prefix}_{secret}"


def _split(token: str) -> tuple[str | None, str]:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None, ""
    return parts[1][:16], parts[2]


def token_from_header(header: str) -> str:
    """Bearer ``<token>``, or Basic with the token as the password (any user name)."""
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise AuthFailed("The Basic credentials are not valid base64.") from None
        return decoded.partition(":")[2]
    raise AuthFailed("Send the integration token as 'Authorization: Bearer <token>'.")


# Sources recently read, by prefix: the hot path then needs no query for them. A token that
# does not match is re-checked against the database at once (a rotation works immediately);
# a source disabled or a token revoked in another process stops working within CACHE_SECONDS.
CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, AlertSource]] = {}


def sources_cache_clear(**_ignored) -> None:  # noqa: ANN003 - also a post_save receiver
    _cache.clear()


def _source(prefix: str, *, fresh: bool) -> AlertSource | None:
    hit = _cache.get(prefix)
    if hit is not None and not fresh and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    source = AlertSource.objects.filter(token_prefix=prefix).first()
    if source is None:
        _cache.pop(prefix, None)
    else:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[prefix] = (time.monotonic(), source)
    return source


def _matches(source: AlertSource, digest: str) -> bool:
    if hmac.compare_digest(digest, source.token_hash):
        return True
    expires = source.previous_token_expires_at
    return bool(source.previous_token_hash) and (
        hmac.compare_digest(digest, source.previous_token_hash)
        and (expires is None or expires > clock.now())
    )


def alert_source_authenticate(*, header: str, kind: str) -> AlertSource:
    """The enabled source this token belongs to, for this endpoint's kind."""
    if not header:
        raise AuthFailed("An integration token is required (Authorization: Bearer <token>).")
    prefix, secret = _split(token_from_header(header))
    if prefix is None:
        raise AuthFailed("The integration token is malformed.")
    digest = _hash(secret)
    source = _source(prefix, fresh=False)
    if source is not None and not _matches(source, digest):
        source = _source(prefix, fresh=True)
    if source is None or not source.enabled or not _matches(source, digest):
        raise AuthFailed("The integration token is not valid.")
    if source.kind != kind:
        raise AuthFailed(
            f"This token is for the {source.get_kind_display()} endpoint, not {kind}.", 403
        )
    return source
