"""Every rule about incidents, in one place. Views, the API, Slack and tasks call these.

Writes take keyword-only arguments, lock the incident row, check permission and version,
change it, and append the timeline event in the same transaction (DESIGN.md rules 1 and 2).
"""

from .checklist import checklist_item_set
from .declare import incident_declare
from .edit import incident_assign, incident_note_add, incident_update
from .lifecycle import TRANSITIONS, incident_transition, transitions_available
from .severity import severity_ranks_sync
from .stopped_timers import timer_retry
from .timeline import timeline_append

__all__ = [
    "TRANSITIONS",
    "checklist_item_set",
    "incident_assign",
    "incident_declare",
    "incident_note_add",
    "incident_transition",
    "incident_update",
    "severity_ranks_sync",
    "timeline_append",
    "timer_retry",
    "transitions_available",
]
