"""The 48-hour scheduling deadline, the overdue flag, invitations, reminders and the close guard."""

import datetime as dt

import pytest
from django.core import mail

from incidents.models import ChecklistItem, Status
from incidents.services import incident_transition
from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from nexusops.engine.timers import timers_sweep
from postmortems.models import PostMortem
from postmortems.services import postmortem_schedule
from tests.factories import UserFactory
from tests.postmortems.helpers import resolved

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _deliver_emails() -> None:
    for message in OutboxMessage.objects.filter(target="email.postmortems", state="pending"):
        assert outbox_deliver(message_id=message.pk) == "sent"


def test_overdue_flag_after_48_hours_without_a_meeting(ic):
    with clock.frozen(T0) as t:
        inc = resolved("P1", actor=ic)
        pm = PostMortem.objects.get(incident=inc)
        t.advance(hours=47, minutes=59)
        timers_sweep()
        pm.refresh_from_db()
        assert pm.overdue_at is None and not pm.is_overdue(clock.now())
        t.advance(minutes=1)
        assert pm.is_overdue(clock.now())
        timers_sweep()
        pm.refresh_from_db()
        assert pm.overdue_at == T0 + dt.timedelta(hours=48)
        event = inc.events.get(kind="postmortem_overdue")
        assert "overdue" in event.message and "48 hours" in event.message
        # Firing again is harmless: one timer, one flag.
        t.advance(hours=1)
        timers_sweep()
        assert inc.events.filter(kind="postmortem_overdue").count() == 1


def test_scheduling_in_time_invites_by_email_and_slack_and_cancels_the_deadline(ic, settings):
    settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN = "http://127.0.0.1:9/api/", "xoxb-test"
    alice = UserFactory(username="alice", email="alice@nexus.example")
    bob = UserFactory(username="bob", email="bob@nexus.example")
    with clock.frozen(T0) as t:
        inc = resolved("P1", actor=ic)
        pm = PostMortem.objects.get(incident=inc)
        t.advance(hours=20)
        meeting = T0 + dt.timedelta(hours=40)
        postmortem_schedule(postmortem=pm, actor=ic, meeting_at=meeting, attendees=[alice, bob])
        pm.refresh_from_db()
        assert pm.meeting_at == meeting and pm.meeting_scheduled_at == T0 + dt.timedelta(hours=20)
        assert ChecklistItem.objects.get(incident=inc, key="schedule_postmortem").done
        slack = OutboxMessage.objects.get(target="slack.post", key__contains="pm-invite")
        assert slack.incident_id == inc.pk and "Post-mortem meeting" in slack.payload["text"]
        _deliver_emails()
        assert sorted(m.to[0] for m in mail.outbox) == ["alice@nexus.example", "bob@nexus.example"]
        assert inc.number in mail.outbox[0].subject
        # The deadline passes with a meeting on the books: no overdue flag.
        t.advance(hours=29)
        timers_sweep()
        pm.refresh_from_db()
        assert pm.overdue_at is None and not pm.is_overdue(clock.now())
        # The reminder went an hour before the meeting.
        mail.outbox.clear()
        _deliver_emails()
        assert len(mail.outbox) == 2 and mail.outbox[0].subject.startswith("[NexusOps] Reminder")


def test_a_meeting_in_the_past_or_without_attendees_is_refused(ic):
    with clock.frozen(T0):
        pm = PostMortem.objects.get(incident=resolved("P1", actor=ic))
        with pytest.raises(ApplicationError) as err:
            postmortem_schedule(
                postmortem=pm, actor=ic, meeting_at=T0 - dt.timedelta(hours=1), attendees=[]
            )
    assert set(err.value.fields) == {"meeting_at", "attendees"}
    pm.refresh_from_db()
    assert pm.meeting_at is None
    assert not OutboxMessage.objects.filter(target="email.postmortems").exists()


def test_a_p1_closes_only_once_its_post_mortem_meeting_is_scheduled(ic):
    with clock.frozen(T0) as t:
        inc = resolved("P1", actor=ic)
        inc = incident_transition(incident=inc, action="monitor", actor=ic)
        t.advance(minutes=31)
        with pytest.raises(Conflict) as err:
            incident_transition(incident=inc, action="close", actor=ic)
        assert err.value.code == "postmortem_required"
        postmortem_schedule(
            postmortem=inc.postmortem,
            actor=ic,
            meeting_at=clock.now() + dt.timedelta(days=1),
            attendees=[ic],
        )
        assert incident_transition(incident=inc, action="close", actor=ic).status == Status.CLOSED
