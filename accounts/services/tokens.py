"""Personal API tokens: created and revoked by their owner, revocable by a manager.

A key is ``nxp_`` + 40 random characters, shown once at creation; only its SHA-256 is kept.
``last_used_at`` is written at most once a minute per token, so a busy script does not turn
every API call into a write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, NotFoundError, PermissionDeniedError

from ..models import PersonalToken

PREFIX = "nxp_"
LONGEST = dt.timedelta(days=365)
LAST_USED_EVERY = dt.timedelta(minutes=1)
EXPIRY_CHOICES_DAYS = (7, 30, 90, 365)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def can_manage_all(user: User) -> bool:
    return user.has_perm("accounts.manage_all_tokens")


@dataclass
class Created:
    token: PersonalToken
    key: str  # shown once; never stored


def personal_token_create(*, user: User, name: str, expires_in_days: int) -> Created:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the token a name.", fields={"name": ["Required."]})
    if len(name) > 100:
        raise ApplicationError(
            "The name is too long.", fields={"name": ["100 characters at most."]}
        )
    if not 1 <= expires_in_days <= LONGEST.days:
        raise ApplicationError(
            f"A token expires within {LONGEST.days} days.",
            fields={"expires_in_days": [f"Between 1 and {LONGEST.days}."]},
        )
    key = PREFIX + secrets.token_urlsafe(30)
    now = clock.now()
    try:
        with transaction.atomic():
            token = PersonalToken.objects.create(
                user=user,
                name=name,
                prefix=key[: len(PREFIX) + 6],
                key_hash=key_hash(key),
                created_at=now,
                expires_at=now + dt.timedelta(days=expires_in_days),
            )
    except IntegrityError as exc:
        raise ApplicationError(
            f"You already have a live token named {name!r}.",
            code="conflict",
            status=409,
            fields={"name": ["Already in use by one of your tokens."]},
        ) from exc
    return Created(token=token, key=key)


def personal_token_revoke(*, token_id: int, by: User) -> PersonalToken:
    """Revoke a token: its owner may, and so may a manager. Revoking twice is a no-op."""
    with transaction.atomic():
        token = PersonalToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFoundError("No such token.")
        if token.user_id != by.pk and not can_manage_all(by):
            # Someone else's token is not even said to exist.
            raise NotFoundError("No such token.")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            token.revoked_by = by
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def personal_token_authenticate(key: str) -> PersonalToken | None:
    """The live token with this key, its last use noted; None if unknown, expired or revoked."""
    now = clock.now()
    token = (
        PersonalToken.objects.select_related("user")
        .filter(key_hash=key_hash(key), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        PersonalToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def personal_tokens_visible(*, user: User, everyone: bool = False) -> QuerySet:
    tokens = PersonalToken.objects.select_related("user", "revoked_by")
    if everyone:
        if not can_manage_all(user):
            raise PermissionDeniedError("Only managers see everyone's tokens.")
        return tokens.all()
    return tokens.filter(user=user)
