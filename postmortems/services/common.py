"""What every post-mortem service shares: the policy row, permission checks, locking."""

from __future__ import annotations

from nexusops.common.services import Permissions, lock_row

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


require = Permissions("postmortems", PERMISSION_WORDS).require


def lock_postmortem(postmortem: PostMortem | int) -> PostMortem:
    queryset = PostMortem.objects.select_related("incident__severity")
    return lock_row(queryset, postmortem, "No such post-mortem.")


def lock_item(item: ActionItem | int) -> ActionItem:
    queryset = ActionItem.objects.select_related("postmortem__incident", "owner")
    return lock_row(queryset, item, "No such action item.")
