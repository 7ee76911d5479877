"""What the deployments app does on events, questions and due timers (nexusops/engine/events)."""

from remediation.events import ActionRunFinished
from statuspage.events import ScheduledMaintenance

from .selectors import status_page_maintenance
from .services import maintenance, record, rollback

HANDLERS = {
    # A rollback's remediation run ended: the rollback records it at once.
    ActionRunFinished: [rollback.record_run_finished],
    # The public status page announces the coming maintenance windows.
    ScheduledMaintenance: [status_page_maintenance],
}

TIMERS = {
    maintenance.NOTICE: maintenance.notice_due,
    maintenance.START: maintenance.window_started,
    maintenance.END: maintenance.window_ended,
    maintenance.GENERATE: maintenance.windows_generate_due,
    record.MONITOR_TIMER: record.monitoring_window_ended,
    rollback.WATCH_TIMER: rollback.rollback_watch,
}
