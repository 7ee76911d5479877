"""What the incidents app does on each event and due timer: one table, read top to bottom.

Order matters where two handlers act on one event: the rows they write (outbox messages, in
the order the incident channel shows them) are created in this order. Higher apps add their
own effects in their own ``handlers.py`` (post-mortems, deployments, …); ``manage.py
shell -c "from nexusops.engine.events import handler_table; print(handler_table())"`` prints
them all.
"""

from nexusops.engine.outbox import OutboxMessageDied
from nexusops.engine.timers import TimerDied

from .comms import fanout
from .events import (
    IncidentAssigned,
    IncidentDeclared,
    IncidentEscalated,
    IncidentTransitioned,
    IncidentUpdated,
    MonitoringCompleted,
    NoteAdded,
    SlaBreached,
)
from .models import TimerKind
from .oncall import escalation_policy, escalation_services, handoff
from .services import delivery, sla, stopped_timers

HANDLERS = {
    IncidentDeclared: [
        fanout.channel_open,  # Slack channel, announcement, PagerDuty trigger
        escalation_services.rearm,  # the escalation tiers' timers
    ],
    IncidentTransitioned: [
        fanout.pagerduty_follow,  # acknowledge / resolve / re-trigger the PagerDuty alert
        escalation_services.pages_resolve,  # on resolve: the per-person pages escalation opened
        fanout.slack_summary,
        fanout.slack_mirror,
        fanout.slack_archive_later,  # on close
        escalation_services.rearm,  # resolve cancels the tiers, reopen re-arms them
    ],
    IncidentUpdated: [
        fanout.pagerduty_note,
        fanout.slack_summary,
        fanout.slack_mirror,
        escalation_services.rearm,  # severity and flags move the tiers
    ],
    IncidentAssigned: [
        fanout.slack_summary,
        fanout.slack_invite,
        fanout.slack_mirror,
    ],
    NoteAdded: [
        fanout.pagerduty_note,  # stakeholder updates only
        fanout.slack_mirror,
    ],
    SlaBreached: [
        fanout.slack_mirror,
        escalation_services.repage_on_breach,  # not acknowledged in time: page tier 1 again
    ],
    MonitoringCompleted: [fanout.slack_mirror],
    IncidentEscalated: [fanout.slack_mirror],
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
