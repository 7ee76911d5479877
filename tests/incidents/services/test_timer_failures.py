"""Timers that cannot be handled: unknown kinds stay due, failing handlers back off and stop,
a person retries a stopped one from the command page or the admin (issue 12, item 6)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import ExitStack

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.models import Service, TimelineEvent
from incidents.services import timer_retry
from incidents.services.timeline import timeline_append
from nexusops.common import clock, roles
from nexusops.common.errors import Conflict
from nexusops.engine.models import Timer
from nexusops.engine.timers import retry_backoff, timers_sweep
from tests.factories import UserFactory, incident
from tests.support.events import extra_handler

T0 = dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ic(db):
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def handlers():
    """Add timer handlers by kind (the engine's tables, as an app would); undone afterwards."""
    with ExitStack() as stack:

        def add(kind: str, fn) -> None:  # noqa: ANN001 - a handler
            stack.enter_context(extra_handler(fn=fn, timer=kind))

        yield add


@pytest.fixture
def failing(handlers):
    """A handler that raises until ``state["fixed"]``; counts its calls."""
    state = {"calls": 0, "fixed": False, "fired": 0}

    def handle(timer, incident, now):  # noqa: ANN001
        state["calls"] += 1
        if not state["fixed"]:
            raise RuntimeError("pager schedule lookup failed")
        state["fired"] += 1

    handlers("test_flaky", handle)
    return state


def _dead_timer(inc, attempts: int = 8) -> Timer:
    return Timer.objects.create(
        incident=inc,
        kind="test_flaky",
        due_at=T0,
        attempts=attempts,
        dead_at=T0 + dt.timedelta(minutes=10),
        last_error="RuntimeError: pager schedule lookup failed",
    )


@pytest.mark.django_db
def test_a_kind_this_process_cannot_handle_stays_due_without_spinning(ic, handlers, caplog):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        newer = Timer.objects.create(incident=inc, kind="from_a_newer_release", due_at=T0)
        t.advance(minutes=1)
        with caplog.at_level(logging.WARNING), CaptureQueriesContext(connection) as queries:
            assert timers_sweep() == 0
        # One read of what is due for known kinds (nothing), one to name the unknown ones:
        # the sweep neither locks nor re-reads the timer it cannot handle.
        assert len(queries) <= 2, [q["sql"] for q in queries]
        newer.refresh_from_db()
        assert newer.pending and newer.attempts == 0 and newer.dead_at is None
        assert "'from_a_newer_release' have no handler in this process" in caplog.text

        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert timers_sweep() == 0
        assert "from_a_newer_release" not in caplog.text  # said once per process

        seen = []
        handlers("from_a_newer_release", lambda timer, incident, now: seen.append(timer.pk))
        assert timers_sweep() == 1  # a process that knows the kind fires it
    newer.refresh_from_db()
    assert seen == [newer.pk] and newer.fired_at == T0 + dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_a_failing_handler_backs_off_exponentially_then_stops_and_says_so(ic, failing):
    with clock.frozen(T0) as t:
        inc = incident(severity_code="P2", actor=ic)
        timer = Timer.objects.create(incident=inc, kind="test_flaky", due_at=T0)
        gaps = []
        while True:
            timers_sweep()
            timer.refresh_from_db()
            assert timer.fired_at is None and timer.last_error == (
                "RuntimeError: pager schedule lookup failed"
            )
            assert failing["calls"] == timer.attempts
            if timer.dead_at is not None:
                break
            gap = timer.next_attempt_at - clock.now()
            gaps.append(gap.total_seconds())
            # Not a moment before the backoff is over ...
            t.set(timer.next_attempt_at - dt.timedelta(microseconds=1))
            timers_sweep()
            assert failing["calls"] == timer.attempts
            t.set(timer.next_attempt_at)  # ... and right after it
        stopped_at = clock.now()
        t.advance(days=1)
        timers_sweep()  # fires the incident's own SLA deadlines, not the stopped timer
    assert gaps == [5, 10, 20, 40, 80, 160, 320]
    assert timer.attempts == 8 and failing["calls"] == 8  # the default TIMER_MAX_ATTEMPTS
    assert timer.dead_at == stopped_at and timer.next_attempt_at is None and timer.pending
    [event] = TimelineEvent.objects.filter(incident=inc, kind="timer_dead")
    assert event.visibility == TimelineEvent.Visibility.INTERNAL
    assert event.message == (
        "Stopped trying “Test flaky” (due 2026-03-06 09:00 UTC) after 8 failed attempts: "
        "RuntimeError: pager schedule lookup failed It will not fire until someone retries it."
    )


def test_backoff_is_capped(settings):
    settings.TIMER_BACKOFF_BASE_SECONDS = 5.0
    settings.TIMER_BACKOFF_MAX_SECONDS = 900.0
    assert retry_backoff(1) == dt.timedelta(seconds=5)
    assert retry_backoff(20) == dt.timedelta(seconds=900)


@pytest.mark.django_db
def test_a_stopped_timer_shows_on_the_command_page_and_retry_brings_it_back(ic, failing, client):
    responder = UserFactory(username="rudi", role=roles.RESPONDER)
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        inc = incident(severity_code="P2", actor=ic)
        dead = _dead_timer(inc)

        client.force_login(responder)
        page = client.get(f"/incidents/{inc.number}/").content.decode()
        assert "Stopped after failing" in page and "pager schedule lookup failed" in page
        assert f"/timers/{dead.pk}/retry/" not in page  # a responder cannot drive
        assert client.post(f"/incidents/{inc.number}/timers/{dead.pk}/retry/").status_code == 403
        dead.refresh_from_db()
        assert dead.dead_at is not None

        client.force_login(ic)
        page = client.get(f"/incidents/{inc.number}/").content.decode()
        assert f'action="/incidents/{inc.number}/timers/{dead.pk}/retry/"' in page
        response = client.post(f"/incidents/{inc.number}/timers/{dead.pk}/retry/")
        assert response.status_code == 302
        dead.refresh_from_db()
        assert dead.dead_at is None and dead.attempts == 0 and dead.next_attempt_at is None
        [event] = TimelineEvent.objects.filter(incident=inc, kind="timer_retried")
        assert event.actor == ic and event.visibility == TimelineEvent.Visibility.INTERNAL
        assert "Retrying “Test flaky” (stopped after 8 failed attempts" in event.message
        assert (
            "Stopped after failing" not in client.get(f"/incidents/{inc.number}/").content.decode()
        )

        failing["fixed"] = True
        assert timers_sweep() == 1
    dead.refresh_from_db()
    assert dead.fired_at is not None and failing["fired"] == 1


@pytest.mark.django_db
def test_htmx_retry_refreshes_the_timers_section(ic, failing, client):
    with clock.frozen(T0):
        inc = incident(severity_code="P2", actor=ic)
        dead = _dead_timer(inc)
        client.force_login(ic)
        response = client.post(
            f"/incidents/{inc.number}/timers/{dead.pk}/retry/", HTTP_HX_REQUEST="true"
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="incident-timers"' in body and "Stopped after failing" not in body


@pytest.mark.django_db
def test_a_timer_of_another_incident_is_not_found(ic, failing, client):
    with clock.frozen(T0):
        mine, other = incident(actor=ic), incident(title="other", actor=ic)
        dead = _dead_timer(other)
        client.force_login(ic)
        response = client.post(f"/incidents/{mine.number}/timers/{dead.pk}/retry/")
    assert response.status_code == 404
    dead.refresh_from_db()
    assert dead.dead_at is not None


@pytest.mark.django_db
def test_only_a_stopped_timer_can_be_retried(ic, failing):
    with clock.frozen(T0):
        inc = incident(severity_code="P2", actor=ic)
        live = Timer.objects.create(incident=inc, kind="test_flaky", due_at=T0)
        with pytest.raises(Conflict, match="this one is live"):
            timer_retry(timer=live, actor=ic)
        dead = _dead_timer(inc)
        Timer.objects.filter(pk=dead.pk).update(cancelled_at=T0)
        with pytest.raises(Conflict, match="this one is cancelled"):
            timer_retry(timer=dead, actor=ic)
    assert not TimelineEvent.objects.filter(incident=inc, kind="timer_retried").exists()


@pytest.mark.django_db
def test_the_admin_lists_stopped_timers_and_retries_them(ic, failing, client):
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    with clock.frozen(T0):
        inc = incident(severity_code="P2", actor=ic)
        dead = _dead_timer(inc)
        live = Timer.objects.create(incident=inc, kind="test_flaky", due_at=T0)
        client.force_login(admin_user)
        listing = client.get("/admin/engine/timer/?state=dead").content.decode()
        assert f'value="{dead.pk}"' in listing and f'value="{live.pk}"' not in listing
        assert "Retry the selected stopped timers" in listing
        response = client.post(
            "/admin/engine/timer/",
            {"action": "retry_dead", "_selected_action": [dead.pk, live.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert "1 timer(s) due again" in page and "this one is live" in page
    dead.refresh_from_db()
    assert dead.dead_at is None and dead.attempts == 0
    assert TimelineEvent.objects.get(incident=inc, kind="timer_retried").actor == admin_user


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_handler_waiting_on_a_held_row_gives_way_without_spending_an_attempt(handlers, settings):
    """Someone holds a row the handler needs: the sweep's bounded lock wait gives up, the
    timer stays due with no attempt counted, and fires once the row is free."""
    settings.TIMERS_LOCK_TIMEOUT_MS = 50
    service = Service.objects.create(slug="billing", name="Billing")
    fired = []

    def needs_the_service(timer, incident, now):  # noqa: ANN001
        Service.objects.select_for_update().get(pk=service.pk)
        fired.append(timer.pk)

    handlers("test_needs_service", needs_the_service)
    timer = Timer.objects.create(kind="test_needs_service", due_at=T0)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Service.objects.select_for_update().get(pk=service.pk)
                holding.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        with clock.frozen(T0 + dt.timedelta(minutes=1)):
            assert timers_sweep() == 0
    finally:
        release.set()
        holder.join(timeout=30)
    timer.refresh_from_db()
    assert timer.pending and timer.attempts == 0 and timer.last_error == "" and fired == []
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        assert timers_sweep() == 1
    assert fired == [timer.pk]


@pytest.mark.django_db
def test_a_handler_failing_in_a_batch_rolls_back_alone(ic, handlers):
    """Three incidents' timers in one batch; the second's handler raises. The batch is rolled
    back and fired again one by one: the other two fire once, with their effects written
    once, and only the failing one backs off."""
    with clock.frozen(T0) as t:
        incs = [incident(title=f"batch {i}", severity_code="P2", actor=ic) for i in range(3)]
        timers = [Timer.objects.create(incident=i, kind="test_batch", due_at=T0) for i in incs]
        calls: list[int] = []

        def handle(timer, incident, now):  # noqa: ANN001
            calls.append(timer.pk)
            timeline_append(incident=incident, kind="batch_fired", message="fired", at=now)
            if timer.pk == timers[1].pk:
                raise RuntimeError("pager schedule lookup failed")

        handlers("test_batch", handle)
        t.advance(minutes=1)
        with CaptureQueriesContext(connection) as queries:
            assert timers_sweep() == 2

    for timer in timers:
        timer.refresh_from_db()
    ok, failed = [timers[0], timers[2]], timers[1]
    assert all(tm.fired_at == T0 + dt.timedelta(minutes=1) and tm.attempts == 0 for tm in ok)
    assert failed.fired_at is None and failed.attempts == 1 and failed.next_attempt_at
    assert [TimelineEvent.objects.filter(incident=i, kind="batch_fired").count() for i in incs] == [
        1,
        0,
        1,
    ]
    # The batch ran the first two handlers, then each timer ran alone.
    assert calls == [timers[0].pk, timers[1].pk, timers[0].pk, timers[1].pk, timers[2].pk]
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert "IN" in locks[0] and len(locks) == 2 + 2 * 3  # the batch's two, then two each


@pytest.mark.django_db
def test_a_batch_takes_one_timer_per_incident(ic, handlers):
    """Two due timers of one incident never share a batch: the second handler finds what
    the first committed (here, that it ran)."""
    with clock.frozen(T0) as t:
        inc, other = (incident(title=f"twice {i}", severity_code="P2", actor=ic) for i in (0, 1))
        first = Timer.objects.create(incident=inc, kind="test_twice", due_at=T0)
        second = Timer.objects.create(incident=inc, kind="test_twice", due_at=T0)
        Timer.objects.create(incident=other, kind="test_twice", due_at=T0)
        seen: list[tuple[int, int]] = []

        def handle(timer, incident, now):  # noqa: ANN001
            before = Timer.objects.filter(incident=incident, fired_at__isnull=False).count()
            seen.append((timer.pk, before))

        handlers("test_twice", handle)
        t.advance(minutes=1)
        assert timers_sweep() == 3
    assert (first.pk, 1) in seen and (second.pk, 2) in seen
