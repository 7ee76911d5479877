"""Review workflow, permissions, revisions after approval and last-writer detection."""

import pytest
from django.urls import reverse

from nexusops.common.errors import ApplicationError, Conflict, PermissionDeniedError
from postmortems.models import PostMortem, PostMortemDraft
from postmortems.services import (
    postmortem_approve,
    postmortem_autosave,
    postmortem_publish,
    postmortem_request_changes,
    postmortem_submit,
    postmortem_update,
)
from tests.postmortems.helpers import postmortem

pytestmark = pytest.mark.django_db


def _written(ic) -> PostMortem:  # noqa: ANN001
    pm = postmortem(actor=ic)
    return postmortem_update(
        postmortem=pm,
        actor=ic,
        expected_version=pm.version,
        data={"summary": "Checkout failed for 40 minutes.", "root_cause": "A bad config push."},
    )


def test_draft_review_approve_publish(ic, manager, other_manager, stakeholder, client):
    pm = _written(ic)
    url = reverse("postmortem-detail", args=[pm.incident.number])
    client.force_login(stakeholder)
    assert client.get(url).status_code == 403  # drafts are not for stakeholders

    with pytest.raises(Conflict):
        postmortem_publish(postmortem=pm, actor=manager)  # unapproved: refused
    postmortem_submit(postmortem=pm, actor=ic)
    postmortem_request_changes(postmortem=pm, actor=manager, comment="Add the detection gap.")
    pm.refresh_from_db()
    assert pm.status == PostMortem.Status.DRAFT
    postmortem_submit(postmortem=pm, actor=ic)
    revision = postmortem_approve(postmortem=pm, actor=manager, comment="Clear and complete.")
    assert (revision.number, revision.approved_by, revision.comment) == (
        1,
        manager,
        "Clear and complete.",
    )
    assert revision.snapshot["sections"][2]["text"] == "A bad config push."
    assert client.get(url).status_code == 403  # approved but not yet published
    postmortem_publish(postmortem=pm, actor=manager)

    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "A bad config push." in body and "approved by Mona" in body
    assert 'action="' + reverse("postmortem-review", args=[pm.incident.number]) not in body
    assert client.get(reverse("postmortem-edit", args=[pm.incident.number])).status_code == 403
    listing = client.get(reverse("postmortem-list")).content.decode()
    assert pm.incident.number in listing


def test_only_managers_approve_and_never_their_own(ic, manager, responder):
    pm = _written(ic)
    postmortem_submit(postmortem=pm, actor=ic)
    with pytest.raises(PermissionDeniedError):
        postmortem_approve(postmortem=pm, actor=responder)
    with pytest.raises(PermissionDeniedError):
        postmortem_approve(postmortem=pm, actor=ic)
    # A manager who edited it may not approve it either (policy: no self-approval).
    pm.refresh_from_db()
    pm.updated_by = manager
    pm.save(update_fields=["updated_by"])
    with pytest.raises(PermissionDeniedError) as err:
        postmortem_approve(postmortem=pm, actor=manager)
    assert err.value.code == "self_approval"
    pm.refresh_from_db()
    assert pm.status == PostMortem.Status.IN_REVIEW and not pm.revisions.exists()


def test_submitting_needs_a_root_cause(ic):
    pm = postmortem(actor=ic)
    with pytest.raises(ApplicationError) as err:
        postmortem_submit(postmortem=pm, actor=ic)
    assert "root_cause" in err.value.fields
    pm.refresh_from_db()
    assert pm.status == PostMortem.Status.DRAFT


def test_editing_after_approval_starts_a_new_revision(ic, manager, stakeholder, client):
    pm = _written(ic)
    postmortem_submit(postmortem=pm, actor=ic)
    postmortem_approve(postmortem=pm, actor=manager)
    postmortem_publish(postmortem=pm, actor=manager)
    pm.refresh_from_db()
    pm = postmortem_update(
        postmortem=pm,
        actor=ic,
        expected_version=pm.version,
        data={"root_cause": "A bad config push, unreviewed."},
    )
    assert (pm.revision, pm.status, pm.published_revision) == (2, "draft", 1)
    # Stakeholders still read the approved revision 1.
    client.force_login(stakeholder)
    body = client.get(reverse("postmortem-detail", args=[pm.incident.number])).content.decode()
    assert "A bad config push." in body and "unreviewed" not in body
    postmortem_submit(postmortem=pm, actor=ic)
    postmortem_approve(postmortem=pm, actor=manager)
    postmortem_publish(postmortem=pm, actor=manager)
    assert list(pm.revisions.values_list("number", flat=True)) == [2, 1]
    body = client.get(reverse("postmortem-detail", args=[pm.incident.number])).content.decode()
    assert "unreviewed" in body


def test_a_stale_save_is_refused_and_kept_as_a_draft(ic, responder, client):
    pm = postmortem(actor=ic)
    started = pm.version
    postmortem_update(postmortem=pm, actor=ic, expected_version=started, data={"summary": "Iris"})
    with pytest.raises(Conflict) as err:
        postmortem_update(
            postmortem=pm, actor=responder, expected_version=started, data={"summary": "Rory"}
        )
    assert err.value.code == "stale_version" and "Iris" in err.value.message
    pm.refresh_from_db()
    assert pm.summary == "Iris"
    # Through the page: the conflict answers 409, keeps Rory's text and saves it as his draft.
    client.force_login(responder)
    url = reverse("postmortem-edit", args=[pm.incident.number])
    response = client.post(url, {"version": started, "summary": "Rory's words"})
    assert response.status_code == 409
    assert "Rory&#x27;s words" in response.content.decode()
    assert PostMortemDraft.objects.get(user=responder).data["summary"] == "Rory's words"
    pm.refresh_from_db()
    assert pm.summary == "Iris"


def test_autosave_keeps_a_private_draft_restored_on_the_edit_page(ic, responder, client):
    pm = postmortem(actor=ic)
    postmortem_autosave(
        postmortem=pm, actor=responder, base_version=pm.version, data={"lessons": "Canary!"}
    )
    pm.refresh_from_db()
    assert pm.lessons == ""
    client.force_login(responder)
    page = client.get(reverse("postmortem-edit", args=[pm.incident.number])).content.decode()
    assert "Canary!" in page and "Restored your autosaved draft" in page
    client.force_login(ic)
    page = client.get(reverse("postmortem-edit", args=[pm.incident.number])).content.decode()
    assert "Canary!" not in page
    response = client.post(
        reverse("postmortem-autosave", args=[pm.incident.number]),
        {"version": pm.version, "summary": "typing"},
    )
    assert response.status_code == 200 and response.json()["stale"] is False
