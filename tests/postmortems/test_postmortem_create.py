"""A post-mortem opens when an incident resolves; its timeline comes from the incident's."""

import datetime as dt

import pytest

from incidents.models import TimelineEvent
from incidents.services import incident_assign, incident_note_add, incident_transition
from nexusops.common import clock
from nexusops.engine.models import Timer
from postmortems.models import PostMortem
from postmortems.services import postmortem_create, postmortem_entry_update
from tests.factories import incident
from tests.postmortems.helpers import RESOLVE_PATH, resolved

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_resolving_a_p1_opens_a_required_post_mortem_due_in_48_hours(ic):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=ic)
        for action in RESOLVE_PATH:
            t.advance(minutes=10)
            inc = incident_transition(incident=inc, action=action, actor=ic)
    pm = PostMortem.objects.get(incident=inc)
    assert pm.required and pm.status == PostMortem.Status.DRAFT
    assert pm.due_at == T0 + dt.timedelta(minutes=40, hours=48)
    timer = Timer.objects.get(kind="postmortem_schedule_due", incident=inc)
    assert timer.due_at == pm.due_at and timer.data == {"postmortem": pm.pk}
    assert inc.events.filter(kind="postmortem_created").count() == 1


@pytest.mark.parametrize("code", ["P2", "P3"])
def test_p2_and_p3_get_none_unless_someone_starts_one(ic, code):
    inc = resolved(code, actor=ic)
    assert not PostMortem.objects.filter(incident=inc).exists()
    pm = postmortem_create(incident=inc, actor=ic, reason="worth learning from")
    assert not pm.required


def test_create_is_idempotent_for_hotfixes_and_retries(ic):
    inc = resolved("P1", actor=ic)
    first = PostMortem.objects.get(incident=inc)
    again = postmortem_create(incident=inc, actor=None, reason="hotfix")
    assert again.pk == first.pk
    assert PostMortem.objects.count() == 1
    assert Timer.objects.filter(kind="postmortem_schedule_due").count() == 1


def test_stakeholder_cannot_start_one(ic, stakeholder):
    from nexusops.common.errors import PermissionDeniedError

    inc = resolved("P3", actor=ic)
    with pytest.raises(PermissionDeniedError):
        postmortem_create(incident=inc, actor=stakeholder)
    assert not PostMortem.objects.exists()


def test_timeline_is_generated_from_the_incident_and_edited_separately(ic, responder):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=ic, title="Checkout errors")
        t.advance(minutes=3)
        inc = incident_transition(incident=inc, action="acknowledge", actor=ic)
        t.advance(minutes=2)
        incident_note_add(incident=inc, actor=ic, message="Gateway 5xx at 40%.")
        incident_note_add(incident=inc, actor=ic, message="internal chatter", internal=True)
        incident_assign(incident=inc, actor=ic, responders=[responder])
        for action in RESOLVE_PATH[1:]:
            t.advance(minutes=5)
            inc = incident_transition(incident=inc, action=action, actor=ic)
    pm = PostMortem.objects.get(incident=inc)
    entries = list(pm.entries.all())
    texts = [e.text for e in entries]
    # Public events only, in order; internal notes never reach the document.
    assert not any("internal chatter" in x for x in texts)
    assert texts[0].startswith("Declared P1")
    assert any(x.startswith("Resolved: the issue is verified fixed.") for x in texts)
    included = {e.source.kind for e in entries if e.included}
    assert {"declared", "status_changed", "update"} <= included
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    # Editing a line changes the post-mortem only; the incident's record is append-only.
    before = list(TimelineEvent.objects.filter(incident=inc).values_list("message", flat=True))
    first = entries[0]
    postmortem_entry_update(entry=first, actor=ic, text="09:00 alert fired", included=True)
    first.refresh_from_db()
    assert first.text == "09:00 alert fired"
    after = list(TimelineEvent.objects.filter(incident=inc).values_list("message", flat=True))
    assert before == after


def test_duration_comes_from_the_timeline(ic):
    from postmortems.selectors import postmortem_document

    with clock.frozen(T0) as t:
        inc = incident(severity_code="P1", actor=ic)
        for action in RESOLVE_PATH:
            t.advance(minutes=25)
            inc = incident_transition(incident=inc, action=action, actor=ic)
    doc = postmortem_document(postmortem=PostMortem.objects.get(incident=inc))
    assert doc["duration_minutes"] == 100
    assert doc["duration"] == "1 h 40 min"
