"""Reads: what the list, the command page, the API and the live view show.

Query counts here must not grow with the number of incidents or timeline events (the list
and the command page are benchmarked and guarded by ``django_assert_max_num_queries``).

One module per reader: ``listing`` (the list and its search, HTML and API), ``timeline``
(events and their kinds), ``command`` (the command page and its panels), ``visibility``
(the one rule of what a stakeholder never sees). The names below are the package's
interface; callers import them from here.
"""

from .command import (
    LATEST_LIMIT,
    TIMELINE_LIMIT,
    commanders,
    dead_timers,
    incident_command_context,
    incident_for_panel,
    incident_get,
    is_live,
    next_checklist_item,
    pending_timers,
    sla_words,
)
from .listing import COUNT_LIMIT, SORTS, IncidentPage, incident_list, incident_page
from .timeline import timeline, timeline_kinds
from .visibility import (
    INTERNAL_INCIDENT_FIELDS,
    IncidentVisibility,
    can_see_internal,
    incident_visibility,
)

__all__ = [
    "COUNT_LIMIT",
    "INTERNAL_INCIDENT_FIELDS",
    "LATEST_LIMIT",
    "SORTS",
    "TIMELINE_LIMIT",
    "IncidentPage",
    "IncidentVisibility",
    "can_see_internal",
    "commanders",
    "dead_timers",
    "incident_command_context",
    "incident_for_panel",
    "incident_get",
    "incident_list",
    "incident_page",
    "incident_visibility",
    "is_live",
    "next_checklist_item",
    "pending_timers",
    "sla_words",
    "timeline",
    "timeline_kinds",
]
