"""What remediation does on events and due timers (see nexusops/engine/events.py)."""

from .services.execute import approval_expired, deadline_passed
from .services.runs import APPROVAL_TIMER, DEADLINE_TIMER

TIMERS = {
    APPROVAL_TIMER: approval_expired,
    DEADLINE_TIMER: deadline_passed,
}
