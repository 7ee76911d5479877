from .catalog import Service, Severity
from .escalation import EscalationPolicy, EscalationTier
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
from .oncall import PayPolicy, Rotation, RotationMember, RotationOverride, Weekday
from .people import Profile

__all__ = [
    "EscalationPolicy",
    "EscalationTier",
    "PayPolicy",
    "Rotation",
    "RotationMember",
    "RotationOverride",
    "Weekday",
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
