from .escalation import EscalationPolicy, EscalationTier
from .rotation import PayPolicy, Rotation, RotationMember, RotationOverride, Weekday

__all__ = [
    "EscalationPolicy",
    "EscalationTier",
    "PayPolicy",
    "Rotation",
    "RotationMember",
    "RotationOverride",
    "Weekday",
]
