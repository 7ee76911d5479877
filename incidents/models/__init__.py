from .catalog import Service, Severity
from .incident import (
    OPEN_STATUSES,
    TITLE_MAX,
    Channel,
    ChecklistItem,
    ChecklistTemplateItem,
    Incident,
    IncidentDaySequence,
    Status,
    Step,
    TimelineEvent,
    TimerKind,
)
from .people import Profile

__all__ = [
    "OPEN_STATUSES",
    "TITLE_MAX",
    "Channel",
    "ChecklistItem",
    "ChecklistTemplateItem",
    "Incident",
    "IncidentDaySequence",
    "Profile",
    "Service",
    "Severity",
    "Status",
    "Step",
    "TimelineEvent",
    "TimerKind",
]
