"""What every post-mortem service shares: the policy row, permission checks, locking."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from nexusops.common.errors import NotFoundError, PermissionDeniedError

from ..models import ActionItem, PostMortem, PostMortemPolicy

PERMISSION_WORDS = {
    "edit_postmortem": "write post-mortems",
    "review_postmortem": "approve or publish post-mortems",
    "view_draft": "read unpublished post-mortems",
    "view_reports": "read the reports",
}
EMAIL = "email.postmortems"


def policy() -> PostMortemPolicy:
    """The one policy row; created with the runbook's defaults when missing."""
    row = PostMortemPolicy.objects.order_by("pk").first()
    return row or PostMortemPolicy.objects.create()


def require(actor: AbstractBaseUser | None, codename: str) -> None:
    """``actor=None`` is the system itself (a listener, a timer)."""
    if actor is None:
        return
    if not actor.is_active or not actor.has_perm(f"postmortems.{codename}"):
        raise PermissionDeniedError(f"Your role cannot {PERMISSION_WORDS[codename]}.")


def lock_postmortem(postmortem: PostMortem | int) -> PostMortem:
    pk = postmortem.pk if isinstance(postmortem, PostMortem) else postmortem
    try:
        return (
            PostMortem.objects.select_for_update().select_related("incident__severity").get(pk=pk)
        )
    except PostMortem.DoesNotExist:
        raise NotFoundError("No such post-mortem.") from None


def lock_item(item: ActionItem | int) -> ActionItem:
    pk = item.pk if isinstance(item, ActionItem) else item
    try:
        return (
            ActionItem.objects.select_for_update()
            .select_related("postmortem__incident", "owner")
            .get(pk=pk)
        )
    except ActionItem.DoesNotExist:
        raise NotFoundError("No such action item.") from None


def fmt(at: dt.datetime) -> str:
    return timezone.localtime(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
