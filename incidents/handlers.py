"""What the incidents app does on each event and due timer: one table, read top to bottom.

Order matters where two handlers act on one event: the rows they write (outbox messages, in
the order the incident channel shows them) are created in this order. Higher apps add their
own effects in their own ``handlers.py`` (post-mortems, deployments, …); ``manage.py
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
    SlaBreached,
)
from .models import TimerKind
from .oncall import escalation_policy, escalation_services, handoff
from .paging import fanout
from .services import delivery, sla, stopped_timers

HANDLERS = {
    IncidentDeclared: [
        fanout.pagerduty_page,
        escalation_services.rearm,  # the escalation tiers' timers
    ],
    IncidentTransitioned: [
        fanout.pagerduty_follow,  # acknowledge / resolve / re-trigger the PagerDuty alert
        escalation_services.pages_resolve,  # on resolve: the per-person pages escalation opened
        escalation_services.rearm,  # resolve cancels the tiers, reopen re-arms them
    ],
    IncidentUpdated: [
        fanout.pagerduty_note,
        escalation_services.rearm,  # severity and flags move the tiers
    ],
    NoteAdded: [fanout.pagerduty_note],  # stakeholder updates only
    SlaBreached: [
        escalation_services.repage_on_breach,  # not acknowledged in time: page tier 1 again
    ],
    OutboxMessageDied: [delivery.record_delivery_failed],
    TimerDied: [stopped_timers.record_timer_died],
}

TIMERS = {
    TimerKind.ACK_DEADLINE: sla.ack_deadline_passed,
    TimerKind.FIRST_UPDATE: sla.first_update_passed,
    TimerKind.MONITORING_END: sla.monitoring_ended,
    escalation_policy.KIND: escalation_services.fire_timer,
    handoff.HANDOFF: handoff.fire_handoff,
    handoff.REMINDER: handoff.fire_reminder,
}
