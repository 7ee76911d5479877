"""What DR drills do on due timers (see nexusops/engine/events.py)."""

from .services import (
    DUE,
    REMINDER,
    RTO,
    STEP_DUE,
    drill_due,
    reminder_due,
    rto_passed,
    step_overdue,
)

TIMERS = {
    REMINDER: reminder_due,  # a planned drill's reminder to the managers
    DUE: drill_due,  # its date came and it has not started
    STEP_DUE: step_overdue,  # a running drill's step past its due moment
    RTO: rto_passed,  # T0 + RTO and the service is not recovered
}
