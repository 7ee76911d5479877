"""Action items: bad input changes nothing; reminders before and when overdue; the lists."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from incidents.models import ChecklistItem
from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_deliver
from nexusops.engine.timers import timers_sweep
from postmortems.models import ActionItem
from postmortems.services import action_item_create, action_item_update
from tests.factories import UserFactory
from tests.postmortems.helpers import postmortem

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _emails() -> list[str]:
    for m in OutboxMessage.objects.filter(target="email.postmortems", state="pending"):
        outbox_deliver(message_id=m.pk)
    return [m.subject for m in mail.outbox]


def test_no_owner_a_past_due_date_or_a_bad_link_is_refused(ic):
    with clock.frozen(T0):
        pm = postmortem(actor=ic)
        with pytest.raises(ApplicationError) as err:
            action_item_create(
                postmortem=pm,
                actor=ic,
                description="Add alerting",
                owner=None,
                due_date=dt.date(2026, 3, 1),
                tracker_url="javascript:alert(1)",
            )
    assert set(err.value.fields) == {"owner", "due_date", "tracker_url"}
    assert "in the past" in err.value.fields["due_date"][0]
    assert not ActionItem.objects.exists() and not Timer.objects.filter(kind__startswith="action")


def test_reminder_before_and_overdue_after_the_due_date(ic):
    owner = UserFactory(username="olga", email="olga@nexus.example")
    with clock.frozen(T0) as t:
        pm = postmortem(actor=ic)
        item = action_item_create(
            postmortem=pm,
            actor=ic,
            description="Add a config canary",
            owner=owner,
            due_date=dt.date(2026, 3, 10),
            priority="high",
        )
        assert ChecklistItem.objects.get(incident=pm.incident, key="assign_owners").done
        assert _emails() == ["[NexusOps] You own a new action item: Add a config canary"]
        mail.outbox.clear()
        t.set(dt.datetime(2026, 3, 8, 8, 59, tzinfo=dt.UTC))
        timers_sweep()
        assert _emails() == []
        t.set(dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.UTC))  # two days before, 09:00 UTC
        timers_sweep()
        assert _emails() == ["[NexusOps] Action item due on 2026-03-10: Add a config canary"]
        mail.outbox.clear()
        t.set(dt.datetime(2026, 3, 11, 0, 0, tzinfo=dt.UTC))
        timers_sweep()
        assert _emails() == ["[NexusOps] Action item OVERDUE since 2026-03-10: Add a config canary"]
        item.refresh_from_db()
        assert item.reminders_sent == 2 and item.is_overdue(dt.date(2026, 3, 11))


def test_done_items_get_no_reminders(ic):
    owner = UserFactory(username="olga", email="olga@nexus.example")
    with clock.frozen(T0) as t:
        pm = postmortem(actor=ic)
        item = action_item_create(
            postmortem=pm, actor=ic, description="x", owner=owner, due_date=dt.date(2026, 3, 5)
        )
        action_item_update(item=item, actor=owner, status="done")  # the owner may
        _emails()
        mail.outbox.clear()
        t.advance(days=10)
        timers_sweep()
        assert _emails() == []


def test_list_of_open_and_overdue_items_filtered_and_mine(ic, responder, client):
    with clock.frozen(T0):
        pm_a = postmortem(actor=ic, services=("api-gateway",))
        pm_b = postmortem(actor=ic, services=("user-service",), title="Login errors")
        soon = action_item_create(
            postmortem=pm_a,
            actor=ic,
            description="Rate-limit retries",
            owner=responder,
            due_date=dt.date(2026, 3, 3),
        )
        later = action_item_create(
            postmortem=pm_b,
            actor=ic,
            description="Session store failover",
            owner=ic,
            due_date=dt.date(2026, 4, 1),
        )
    with clock.frozen(dt.datetime(2026, 3, 5, tzinfo=dt.UTC)):
        client.force_login(responder)
        mine = client.get(reverse("actionitem-list")).content.decode()
        assert "Rate-limit retries" in mine and "Session store failover" not in mine
        url = reverse("actionitem-list")
        overdue = client.get(url, {"state": "overdue"}).content.decode()
        assert "Rate-limit retries" in overdue and "Session store failover" not in overdue
        by_service = client.get(url, {"service": "user-service", "state": "open"})
        assert "Session store failover" in by_service.content.decode()
        assert "Rate-limit retries" not in by_service.content.decode()
        by_due = client.get(url, {"due_before": "2026-03-31", "state": "all"}).content.decode()
        assert "Rate-limit retries" in by_due and "Session store failover" not in by_due
        by_owner = client.get(url, {"owner": ic.pk, "state": "open"}).content.decode()
        assert "Session store failover" in by_owner
    assert soon.pk != later.pk
