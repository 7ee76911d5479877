"""What the incidents app does on each event and due timer: one table, read top to bottom.

Order matters where two handlers act on one event: the rows they write (outbox messages, in
the order the incident channel shows them) are created in this order. Higher apps add their
own effects in their own ``handlers.py`` (on-call's escalation, post-mortems, …); ``manage.py
shell -c "from nexusops.engine.events import handler_table; print(handler_table())"`` prints
them all.
"""

from nexusops.engine.outbox import OutboxMessageDied
from nexusops.engine.timers import TimerDied

from .events import (
    IncidentDeclared,
    IncidentTransitioned,
    IncidentUpdated,
    NoteAdded,
)
from .models import TimerKind
from .paging import fanout
from .services import delivery, sla, stopped_timers

HANDLERS = {
    IncidentDeclared: [fanout.pagerduty_page],
    IncidentTransitioned: [
        fanout.pagerduty_follow,  # acknowledge / resolve / re-trigger the PagerDuty alert
    ],
    IncidentUpdated: [fanout.pagerduty_note],
    NoteAdded: [fanout.pagerduty_note],  # stakeholder updates only
    OutboxMessageDied: [delivery.record_delivery_failed],
    TimerDied: [stopped_timers.record_timer_died],
}

TIMERS = {
    TimerKind.ACK_DEADLINE: sla.ack_deadline_passed,
    TimerKind.FIRST_UPDATE: sla.first_update_passed,
    TimerKind.MONITORING_END: sla.monitoring_ended,
}
