"""Alert intake: record (``ingest``), process and group (``processing``), one alert's state
and flapping (``flapping``), tell people (``announce``, ``slack``), integrations
(``sources``), ack and silence (``groups``).

Maintenance windows (deployments, below) downgrade alerts through ``suppression``.
"""

from .flapping import alerts_settle
from .groups import alert_group_acknowledge, alert_group_silence, alert_processing_retry
from .ingest import alert_events_record, processing_schedule
from .processing import alerts_pending, alerts_process
from .sources import alert_source_authenticate, alert_source_create, alert_source_rotate_token
from .suppression import suppression_reason

__all__ = [
    "alert_events_record",
    "alert_group_acknowledge",
    "alert_group_silence",
    "alert_processing_retry",
    "alert_source_authenticate",
    "alert_source_create",
    "alert_source_rotate_token",
    "alerts_pending",
    "alerts_process",
    "alerts_settle",
    "processing_schedule",
    "suppression_reason",
]
