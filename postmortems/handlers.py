"""What post-mortems do on incident events and due timers (see nexusops/engine/events.py)."""

from incidents.events import IncidentCloseRequested, IncidentTransitioned
from oncall.events import HandoffSections

from . import hooks
from .services.action_items import ITEM_OVERDUE, ITEM_REMINDER
from .services.document import MEETING_REMINDER, SCHEDULE_DUE

HANDLERS = {
    # Resolved a P0/P1: its post-mortem is opened, to be scheduled within 48 hours.
    IncidentTransitioned: [hooks.open_on_resolve],
    # A P0/P1 does not close until its post-mortem meeting is booked.
    IncidentCloseRequested: [hooks.refuse_close_without_meeting],
    # The Friday on-call handoff note lists the open action items.
    HandoffSections: [hooks.handoff_action_items],
}

TIMERS = {
    SCHEDULE_DUE: hooks.schedule_due,
    MEETING_REMINDER: hooks.meeting_reminder,
    ITEM_REMINDER: hooks.item_reminder_due,
    ITEM_OVERDUE: hooks.item_overdue,
}
