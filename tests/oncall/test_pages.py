"""Escalation pages say what was done, fall through only to tiers that apply, carry the
severity's urgency, and end with the incident — against the PagerDuty stand-in over HTTPS."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from incidents.models import TimelineEvent
from incidents.services import incident_transition, incident_update
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from nexusops.engine.timers import timers_sweep
from oncall.models import RotationMember
from oncall.senders import PAGE_USER, RESOLVE_PAGES
from tests.factories import incident

T0 = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)
ROW_TARGET = {"pagerduty": PAGE_USER, "slack": "slack.invite"}


def deliver_pagerduty(inc) -> list[str]:
    """Deliver every pending PagerDuty row of the incident, oldest first, as a worker would."""
    states = []
    for pk in (
        OutboxMessage.objects.filter(incident=inc, target__startswith="pagerduty.", state="pending")
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        states.append(outbox_deliver(message_id=pk))
    return states


def console_pages(pagerduty) -> list[dict]:
    """The per-person pages the console opened in PagerDuty (REST incidents, assigned)."""
    return [i for i in pagerduty.state()["incidents"] if ":esc:" in i["incident_key"]]


def assert_every_claim_has_its_row(inc) -> None:
    """Every "paged … via PagerDuty" / "invited … in Slack" names the outbox row behind it."""
    User = get_user_model()
    events = TimelineEvent.objects.filter(incident=inc, kind="escalated")
    assert events.exists()
    for event in events:
        pages = event.data["pages"]
        assert {p["user"] for p in pages} == set(event.data["paged"])
        said = {
            ("pagerduty", name) for name in re.findall(r"paged (\w+) via PagerDuty", event.message)
        } | {("slack", name) for name in re.findall(r"invited (\w+) to #", event.message)}
        backed = set()
        for page in pages:
            row = OutboxMessage.objects.get(pk=page["outbox"], incident=inc)
            assert row.target == ROW_TARGET[page["via"]]
            profile = User.objects.get(pk=page["user"]).profile
            if page["via"] == "pagerduty":
                assert row.payload["user_id"] == profile.pagerduty_user_id
            else:
                assert row.payload["users"] == [profile.slack_user_id]
            backed.add((page["via"], User.objects.get(pk=page["user"]).first_name))
        assert said == backed, event.message


# --- 1. "paged" only when a page was enqueued ------------------------------------------------
def test_paging_switched_off_is_said_not_claimed(org, settings):
    settings.PAGERDUTY_SERVICE_ID = ""  # per-person paging off; Slack still on
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        timers_sweep()
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.set(T0 + dt.timedelta(hours=2))
        timers_sweep()  # tier 2 (Emma: both ids) and tier 3 (Carl: PagerDuty only)

    first = TimelineEvent.objects.filter(incident=inc, kind="escalated").earliest("id")
    assert "paged Olga" not in first.message
    assert "invited Olga to #incident-" in first.message
    assert "could not page Olga via PagerDuty: per-person paging is not configured" in (
        first.message
    )
    failed = TimelineEvent.objects.get(incident=inc, kind="page_failed", data__tier=3)
    assert "could not page Carl: per-person paging is not configured" in failed.message
    assert org["cto"] not in inc.responders.all()
    assert not OutboxMessage.objects.filter(target=PAGE_USER).exists()
    said = " ".join(TimelineEvent.objects.filter(incident=inc).values_list("message", flat=True))
    assert not re.search(r"paged \w+ via PagerDuty", said)


@pytest.mark.parametrize("service_id", ["PSVC001", ""], ids=["paging-on", "paging-off"])
def test_every_paged_on_the_timeline_has_its_outbox_row(org, settings, service_id):
    settings.PAGERDUTY_SERVICE_ID = service_id
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        timers_sweep()
        t.set(T0 + dt.timedelta(minutes=15))
        timers_sweep()  # not acknowledged: re-page
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.set(T0 + dt.timedelta(hours=2))
        timers_sweep()
        incident_update(incident=inc, actor=org["ic"], data_breach=True)
        timers_sweep()
    assert_every_claim_has_its_row(inc)


# --- 2. fall-through respects each tier's conditions -----------------------------------------
@pytest.mark.parametrize(
    ("severity", "flags", "lands_on"),
    [
        ("P3", {}, None),  # not the EM (P0/P1), not the CTO (P0), not the CEO (flags)
        ("P1", {}, "em"),
        ("P3", {"major_customer_impact": True}, "ceo"),
    ],
    ids=["p3-no-flags", "p1", "p3-major-impact"],
)
def test_a_gap_in_the_rotation_falls_through_only_to_tiers_that_apply(
    org, severity, flags, lands_on
):
    RotationMember.objects.filter(rotation=org["rotation"]).delete()  # nobody on call
    with clock.frozen(T0):
        inc = incident(severity_code=severity, actor=org["ic"], **flags)
        timers_sweep()

    failed = TimelineEvent.objects.get(incident=inc, kind="page_failed", data__tier=1)
    escalated = [
        (e.data["tier"], e.data["paged"])
        for e in TimelineEvent.objects.filter(incident=inc, kind="escalated").order_by("id")
    ]
    if lands_on is None:
        assert "Could not page tier 1 (On-call engineer): nobody is on call." in failed.message
        assert "No further tier applies to this incident (P3, no data breach" in failed.message
        assert failed.data["next_tier"] is None
        assert escalated == []
        assert not OutboxMessage.objects.filter(incident=inc, target__in=ROW_TARGET.values())
        assert not inc.responders.exists()
    else:
        target = org[lands_on]
        assert [pk for _, paged in escalated for pk in paged] == [target.pk]
        assert failed.data["next_tier"] == escalated[0][0]
        assert set(inc.responders.values_list("pk", flat=True)) == {target.pk}


# --- 3. urgency from the severity, pages end with the incident -------------------------------
@pytest.mark.parametrize(("severity", "urgency"), [("P0", "high"), ("P3", "low")])
def test_a_page_carries_the_severitys_urgency(org, pagerduty, severity, urgency):
    with clock.frozen(T0):
        inc = incident(severity_code=severity, actor=org["ic"])
        timers_sweep()
    assert deliver_pagerduty(inc).count("sent") >= 1
    (page,) = console_pages(pagerduty)
    assert page["urgency"] == urgency and page["status"] == "triggered"
    (create,) = [r for r in pagerduty.received("/incidents") if r["method"] == "POST"]
    assert create["body"]["incident"]["urgency"] == urgency


def test_declare_escalate_resolve_close_leaves_nothing_open(org, pagerduty):
    # A P2 (closes without a post-mortem meeting) that turns out to be a data breach.
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=org["ic"])
        timers_sweep()  # tier 1: Olga
        incident_transition(incident=inc, action="acknowledge", actor=org["ic"])
        t.advance(minutes=10)
        incident_update(incident=inc, actor=org["ic"], data_breach=True)
        timers_sweep()  # tier 3: Carl (PagerDuty), tier 4: Cleo (Slack only)
        deliver_pagerduty(inc)
        assert [p["status"] for p in console_pages(pagerduty)] == ["triggered", "triggered"]
        incident_transition(incident=inc, action="investigate", actor=org["ic"])
        incident_transition(incident=inc, action="resolve", actor=org["ic"])
        deliver_pagerduty(inc)
        incident_transition(incident=inc, action="monitor", actor=org["ic"])
        t.advance(hours=1)  # past the runbook's monitoring period
        incident_transition(incident=inc, action="close", actor=org["ic"])
        deliver_pagerduty(inc)

    assert pagerduty.state()["open"] == []  # the Events API alert and both pages
    assert {p["status"] for p in console_pages(pagerduty)} == {"resolved"}
    resolves = [r for r in pagerduty.received() if r["method"] == "PUT"]
    assert len(resolves) == 2
    assert all(r["headers"]["From"] == "ic@nexusops.example" for r in resolves)
    assert all(r["body"]["incident"]["status"] == "resolved" for r in resolves)
    message = OutboxMessage.objects.get(incident=inc, target=RESOLVE_PAGES)
    assert message.state == "sent" and len(message.result["resolved"]) == 2


def test_a_page_still_queued_at_resolve_pages_nobody(org, pagerduty):
    with clock.frozen(T0):
        inc = incident(severity_code="P1", actor=org["ic"])
        timers_sweep()
        for action in ("acknowledge", "investigate", "resolve"):
            incident_transition(incident=inc, action=action, actor=org["ic"])
    states = deliver_pagerduty(inc)  # the page row comes before the resolve row

    assert set(states) == {"sent"}
    page = OutboxMessage.objects.get(incident=inc, target=PAGE_USER)
    assert "no longer open" in page.result["skipped"]
    assert console_pages(pagerduty) == []
    assert pagerduty.state()["open"] == []


def test_reopen_pages_afresh_and_the_next_resolve_ends_those_too(org, pagerduty):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P0", actor=org["ic"])
        timers_sweep()
        deliver_pagerduty(inc)
        for action in ("acknowledge", "investigate", "resolve"):
            incident_transition(incident=inc, action=action, actor=org["ic"])
        deliver_pagerduty(inc)
        assert pagerduty.state()["open"] == []
        t.set(T0 + dt.timedelta(hours=3))
        incident_transition(incident=inc, action="reopen", actor=org["ic"], reason="errors back")
        timers_sweep()  # tiers 2 and 3 are due since the reopen; tier 1 is not paged again
        deliver_pagerduty(inc)
        reopened = {p["id"] for p in console_pages(pagerduty) if p["status"] == "triggered"}
        assert len(reopened) == 2
        incident_transition(incident=inc, action="resolve", actor=org["ic"])
        deliver_pagerduty(inc)

    assert pagerduty.state()["open"] == []
    second = OutboxMessage.objects.filter(incident=inc, target=RESOLVE_PAGES).latest("pk")
    assert set(second.result["resolved"]) == reopened
    assert len(second.result["already_resolved"]) == 1  # tier 1's page, resolved the first time


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_opened_while_the_incident_resolves_is_resolved_by_its_sender(org, pagerduty):
    """The page's create call is in flight (held by the stand-in) while the incident resolves
    and its resolve_pages row runs and finds nothing yet; the sender sees the incident is no
    longer open once PagerDuty answers, and resolves the page it has just opened."""
    with clock.frozen(T0):
        inc = incident(severity_code="P1", actor=org["ic"])
        timers_sweep()
    page = OutboxMessage.objects.get(incident=inc, target=PAGE_USER)
    pagerduty.inject(latency_ms=3000)  # holds the create; it is recorded before the wait
    outcome = []

    def deliver():
        try:
            outcome.append(outbox_deliver(message_id=page.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=deliver)
    worker.start()
    try:
        for _ in range(300):
            if pagerduty.received("/incidents"):
                break
            threading.Event().wait(0.01)
        for action in ("acknowledge", "investigate", "resolve"):
            incident_transition(incident=inc, action=action, actor=org["ic"])
        (resolve_pages,) = OutboxMessage.objects.filter(incident=inc, target=RESOLVE_PAGES)
        assert outbox_deliver(message_id=resolve_pages.pk) == "sent"
    finally:
        worker.join()

    assert outcome == ["sent"]
    page.refresh_from_db()
    assert page.result["resolved"] is True
    assert pagerduty.state()["open"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_resolve_racing_the_page_delivery_leaves_no_page_open(org, pagerduty):
    """50 rounds of a worker delivering a page while the commander resolves (and the
    resolve_pages row is delivered at once): whichever wins, nothing stays open."""
    ended_by = {"sender": 0, "resolve_pages": 0, "never opened": 0}
    for _ in range(50):
        inc = incident(severity_code="P1", actor=org["ic"])
        timers_sweep()
        for action in ("acknowledge", "investigate"):
            incident_transition(incident=inc, action=action, actor=org["ic"])
        page = OutboxMessage.objects.get(incident=inc, target=PAGE_USER)
        barrier = threading.Barrier(2)
        outcome = []

        def deliver(pk=page.pk, barrier=barrier, outcome=outcome):
            try:
                barrier.wait()
                outcome.append(outbox_deliver(message_id=pk))
            finally:
                connection.close()

        worker = threading.Thread(target=deliver)
        worker.start()
        try:
            barrier.wait()
            incident_transition(incident=inc, action="resolve", actor=org["ic"])
            (resolve_pages,) = OutboxMessage.objects.filter(incident=inc, target=RESOLVE_PAGES)
            assert outbox_deliver(message_id=resolve_pages.pk) == "sent"
        finally:
            worker.join()
        assert outcome == ["sent"]
        page.refresh_from_db()
        resolve_pages.refresh_from_db()
        if "skipped" in page.result:
            ended_by["never opened"] += 1
        elif page.result.get("resolved"):
            ended_by["sender"] += 1
        if resolve_pages.result["resolved"]:
            ended_by["resolve_pages"] += 1
        key = page.payload["incident_key"]
        left = [i for i in console_pages(pagerduty) if i["incident_key"] == key]
        assert all(i["status"] == "resolved" for i in left), left
    assert pagerduty.state()["open"] == []
    print(f"how 50 racing pages ended: {ended_by}")  # which side won varies from run to run
