"""The review workflow: draft → in review → approved → published (read-only to stakeholders)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from incidents.services.timeline import timeline_append
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from nexusops.common.services import actor_name

from ..models import PostMortem, PostMortemReview, PostMortemRevision
from ..selectors import postmortem_document
from .common import lock_postmortem, policy, require

Status = PostMortem.Status


def _expect(postmortem: PostMortem, status: str, verb: str) -> None:
    if postmortem.status != status:
        raise Conflict(
            f"Cannot {verb} the post-mortem of {postmortem.incident.number}: it is "
            f"{postmortem.get_status_display().lower()}, not {Status(status).label.lower()}.",
            code="invalid_review_state",
        )


def _record(postmortem: PostMortem, action: str, actor, comment: str, message: str) -> None:  # noqa: ANN001
    now = clock.now()
    PostMortemReview.objects.create(
        postmortem=postmortem,
        revision=postmortem.revision,
        action=action,
        actor=actor,
        actor_name=actor_name(actor),
        comment=comment,
        created_at=now,
    )
    timeline_append(
        incident=postmortem.incident,
        kind=f"postmortem_{action}",
        actor=actor,
        internal=action != "published",
        message=message + (f" “{comment}”" if comment else ""),
        data={"postmortem": postmortem.pk, "revision": postmortem.revision},
        at=now,
    )


@transaction.atomic
def postmortem_submit(
    *, postmortem: PostMortem | int, actor: User | None, comment: str = ""
) -> PostMortem:
    require(actor, "edit_postmortem")
    postmortem = lock_postmortem(postmortem)
    _expect(postmortem, Status.DRAFT, "submit")
    if not postmortem.root_cause.strip():
        raise ApplicationError(
            "Document the root cause before asking for review.",
            fields={"root_cause": ["Required for review."]},
        )
    postmortem.status, postmortem.submitted_by = Status.IN_REVIEW, actor
    postmortem.save(update_fields=["status", "submitted_by"])
    _record(
        postmortem,
        "submitted",
        actor,
        comment.strip(),
        f"Post-mortem revision {postmortem.revision} submitted for review.",
    )
    return postmortem


@transaction.atomic
def postmortem_request_changes(
    *, postmortem: PostMortem | int, actor: User | None, comment: str
) -> PostMortem:
    require(actor, "review_postmortem")
    postmortem = lock_postmortem(postmortem)
    _expect(postmortem, Status.IN_REVIEW, "send back")
    comment = comment.strip()
    if not comment:
        raise ApplicationError(
            "Say what should change.", fields={"comment": ["A comment is required."]}
        )
    postmortem.status = Status.DRAFT
    postmortem.save(update_fields=["status"])
    _record(
        postmortem, "changes_requested", actor, comment, "Changes requested on the post-mortem."
    )
    return postmortem


def _own(postmortem: PostMortem, actor: User) -> bool:
    return actor.pk in {
        postmortem.submitted_by_id,
        postmortem.updated_by_id,
        postmortem.incident.commander_id,
    }


@transaction.atomic
def postmortem_approve(
    *, postmortem: PostMortem | int, actor: User, comment: str = ""
) -> PostMortemRevision:
    """A manager approves; the text is frozen as this revision (who, when, comment)."""
    require(actor, "review_postmortem")
    postmortem = lock_postmortem(postmortem)
    _expect(postmortem, Status.IN_REVIEW, "approve")
    if not policy().allow_self_approval and _own(postmortem, actor):
        raise PermissionDeniedError(
            "The post-mortem policy forbids approving a post-mortem you wrote, submitted or "
            "commanded: ask another manager.",
            code="self_approval",
        )
    now = clock.now()
    revision = PostMortemRevision.objects.create(
        postmortem=postmortem,
        number=postmortem.revision,
        snapshot=postmortem_document(postmortem=postmortem),
        approved_by=actor,
        approved_by_name=actor_name(actor),
        approved_at=now,
        comment=comment.strip(),
    )
    postmortem.status = Status.APPROVED
    postmortem.save(update_fields=["status"])
    _record(
        postmortem,
        "approved",
        actor,
        comment.strip(),
        f"Post-mortem revision {postmortem.revision} approved.",
    )
    return revision


@transaction.atomic
def postmortem_publish(*, postmortem: PostMortem | int, actor: User | None) -> PostMortem:
    """Stakeholders read the approved revision from now on (read-only)."""
    require(actor, "review_postmortem")
    postmortem = lock_postmortem(postmortem)
    if postmortem.status != Status.APPROVED:
        raise Conflict(
            f"Only an approved post-mortem can be published; this one is "
            f"{postmortem.get_status_display().lower()}.",
            code="not_approved",
        )
    if postmortem.published_revision == postmortem.revision:
        return postmortem
    postmortem.published_revision, postmortem.published_at = postmortem.revision, clock.now()
    postmortem.save(update_fields=["published_revision", "published_at"])
    _record(
        postmortem,
        "published",
        actor,
        "",
        f"Post-mortem (revision {postmortem.revision}) published to stakeholders.",
    )
    return postmortem
