"""What chat does on incident events: one table, read top to bottom (nexusops/engine/events.py).

Order matters where two handlers act on one event: the outbox rows they write are created in
this order, which is the order the incident channel shows them. These run after the
``incidents`` table (paging, escalation timers), as ``chat`` is the floor above it.
"""

from incidents.events import (
    CommandPagePanels,
    IncidentAssigned,
    IncidentDeclared,
    IncidentEscalated,
    IncidentTransitioned,
    IncidentUpdated,
    MonitoringCompleted,
    NoteAdded,
    SlaBreached,
)

from . import fanout
from .channels import chat_channel_links

HANDLERS = {
    IncidentDeclared: [fanout.channel_open],  # the incident's channel, the announcement
    IncidentTransitioned: [
        fanout.chat_summary,
        fanout.chat_mirror,
        fanout.chat_archive_later,  # on close
    ],
    IncidentUpdated: [fanout.chat_summary, fanout.chat_mirror],
    IncidentAssigned: [fanout.chat_summary, fanout.chat_invite, fanout.chat_mirror],
    NoteAdded: [fanout.chat_mirror],
    SlaBreached: [fanout.chat_mirror],
    MonitoringCompleted: [fanout.chat_mirror],
    IncidentEscalated: [fanout.chat_mirror],
    # The command page links the incident's channels.
    CommandPagePanels: [chat_channel_links],
}
