"""What every app's services share: who may act, how an actor is named, locking one row.

Each app binds its own permission words once::

    require = Permissions("deployments", {"record_deployment": "record deployments"}).require
    require(actor, "record_deployment")  # PermissionDeniedError: "Your role cannot ..."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import models

from .errors import NotFoundError, PermissionDeniedError

M = TypeVar("M", bound=models.Model)

SYSTEM_NAME = "NexusOps"


class Permissions:
    """An app's permission checks: ``app_label`` and the words a refusal uses per codename."""

    def __init__(self, app_label: str, words: Mapping[str, str]) -> None:
        self.app_label = app_label
        self.words = words

    def require(self, actor: User | None, codename: str, *, words: str | None = None) -> None:
        """Refuse an inactive actor or one without ``<app_label>.<codename>``.

        ``actor=None`` is the system itself (a sweep, a listener, a webhook or integration
        that was already authenticated), which may do anything. ``words`` overrides what the
        refusal says the role cannot do, where one permission guards several actions.
        """
        if actor is None:
            return
        if not actor.is_active or not actor.has_perm(f"{self.app_label}.{codename}"):
            words = words or self.words.get(codename, codename)
            raise PermissionDeniedError(f"Your role cannot {words}.")


def actor_name(actor: User | None, fallback: str = SYSTEM_NAME) -> str:
    """The name the timeline and notices show for ``actor``; ``fallback`` for the system."""
    if actor is None:
        return fallback
    return actor.get_full_name() or actor.get_username()


def lock_row(queryset: models.QuerySet[M], row: M | int, missing: str) -> M:
    """``row`` re-read from ``queryset`` under ``SELECT ... FOR UPDATE``.

    Raises :class:`NotFoundError` with ``missing`` when it is gone. Pass a queryset with the
    ``select_related`` the caller needs; take the subject's lock first (DESIGN.md rule 11).
    """
    pk = row.pk if isinstance(row, models.Model) else row
    found = queryset.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFoundError(missing)
    return found
