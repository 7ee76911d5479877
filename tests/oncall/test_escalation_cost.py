"""What one escalation firing costs in database statements, pinned (issue 15, item 2).

A backlog of due tiers (a sweeper that was down) is fired by one sweep. Each statement is a
round trip to PostgreSQL; the goal is at most 8 per firing, everything counted: the sweep's
read of what is due, its locks, the firing, the pages, the timeline, and the per-run reads
of the tier and of who is on call. The test transaction makes the sweep's transaction a
savepoint, so its SAVEPOINT and RELEASE stand in for BEGIN and COMMIT.

A batch writes set-wise (``nexusops.engine.held_rows``): one read of the channels' order,
one insert each of the outbox messages, timeline entries and responders, one update of the
last-event pointers, and the ids for them from two sequences, whatever the number of
firings; so a batch of 25 costs 21 statements in all (0.84 per firing; 6.19 before).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import TimelineEvent
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.timers import timers_sweep
from oncall.models import Rotation, RotationMember
from tests.factories import incident

from .conftest import person, runbook_policy

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
BACKLOG = 25  # one batch
MAX_PER_FIRING = 1  # the goal is 8; set-wise writes leave 0.84


@pytest.fixture
def backlog(db, settings, slack):
    """``BACKLOG`` P2 incidents whose tier 1 (the on-call engineer, paged on detection) is
    due and not fired; Olga is on call and reachable in Slack only."""
    settings.PAGERDUTY_SERVICE_ID = ""
    olga = person("olga", slack="U0OLGA")
    rotation = Rotation.objects.create(name="Primary", start_date=dt.date(2026, 1, 2))
    RotationMember.objects.create(rotation=rotation, user=olga, position=0)
    runbook_policy()
    with clock.frozen(T0):
        incidents = [incident(title=f"backlog {i}", severity_code="P2") for i in range(BACKLOG)]
    due = Timer.objects.filter(kind="escalation", fired_at__isnull=True, due_at__lte=T0)
    assert due.count() == BACKLOG
    return {"olga": olga, "incidents": incidents}


def _sweep_counted() -> tuple[int, list[str]]:
    with clock.frozen(T0 + dt.timedelta(seconds=30)):
        with CaptureQueriesContext(connection) as queries:
            fired = timers_sweep()
    return fired, [q["sql"] for q in queries.captured_queries]


@pytest.mark.postgres
def test_a_firing_that_pages_the_on_call_engineer_costs_at_most_1_statement(backlog):
    fired, statements = _sweep_counted()

    assert fired == BACKLOG
    # What each firing did, so the count is of real work: one Slack invitation, one
    # timeline entry naming it, its mirror in the channel, the engineer a responder.
    for inc in backlog["incidents"]:
        escalated = TimelineEvent.objects.get(incident=inc, kind="escalated")
        assert escalated.data["paged"] == [backlog["olga"].pk]
        assert OutboxMessage.objects.filter(incident=inc, target="slack.invite").count() == 1
        assert list(inc.responders.all()) == [backlog["olga"]]
    assert len(statements) <= MAX_PER_FIRING * fired, "\n".join(statements)
    # Per batch, not per firing: the rows' statements are one each.
    assert sum(s.startswith('INSERT INTO "incidents_outboxmessage"') for s in statements) == 1


@pytest.mark.postgres
def test_a_firing_that_can_reach_nobody_costs_fewer(backlog, settings):
    settings.SLACK_API_URL = ""  # Slack switched off: nobody can be reached

    fired, statements = _sweep_counted()

    assert fired == BACKLOG
    assert TimelineEvent.objects.filter(kind="page_failed").count() == BACKLOG
    assert not TimelineEvent.objects.filter(kind="escalated").exists()
    # No outbox, channel order or responders: the entries and pointers, set-wise.
    assert len(statements) < MAX_PER_FIRING * fired, "\n".join(statements)
    assert sum(s.startswith('INSERT INTO "incidents_timelineevent"') for s in statements) == 1
