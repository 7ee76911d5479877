"""The engine's tables: every effect of an event can be read from one file per app."""

from __future__ import annotations

from incidents.events import IncidentTransitioned
from nexusops.engine import events


def test_the_whole_table_prints_every_effect_and_timer(capsys):
    table = events.handler_table()
    print(table)  # what a reader would list; shown with `pytest -s`
    assert "incidents.events.IncidentTransitioned" in table
    assert "    postmortems: postmortems.hooks.open_on_resolve" in table
    assert "ack_deadline → incidents: incidents.services.sla.ack_deadline_passed" in table
    assert "<locals>" not in table  # every handler has a name a reader can find


def test_acknowledging_an_incident_has_these_effects_in_this_order():
    names = [f"{fn.__module__}.{fn.__qualname__}" for fn in events._handlers(IncidentTransitioned)]
    assert names == [
        "incidents.paging.fanout.pagerduty_follow",
        "chat.fanout.chat_summary",
        "chat.fanout.chat_mirror",
        "chat.fanout.chat_archive_later",
        "oncall.escalation_services.pages_resolve",
        "oncall.escalation_services.rearm",
        "postmortems.hooks.open_on_resolve",
    ]


def test_each_timer_kind_has_one_owner():
    owners: dict[str, str] = {}
    for table in events.tables():
        for kind in table.timers:
            assert kind not in owners, f"{kind} is handled by {owners[kind]} and {table.app}"
            owners[kind] = table.app
    assert events.timer_handler("no_such_kind") is None


def test_only_the_postmortems_app_guards_a_close():
    from incidents.events import IncidentCloseRequested

    assert [fn.__name__ for fn in events._handlers(IncidentCloseRequested)] == [
        "refuse_close_without_meeting"
    ]
