"""What on-call does on incidents' events, its timers and the command page's question.

Escalation follows the incident: declaring arms the tiers' timers, a change of severity or
flags moves them, resolving cancels them and ends the per-person pages, a missed
acknowledgement re-pages tier 1. ``incidents`` publishes those events and never imports
on-call; these handlers run after incidents' own (``INSTALLED_APPS`` order), in the same
transaction.
"""

from incidents.events import (
    CommandPagePanels,
    IncidentDeclared,
    IncidentTransitioned,
    IncidentUpdated,
    SlaBreached,
)
from nexusops.engine.held_rows import batch_writes

from . import escalation_policy, escalation_services, handoff
from .selectors import command_page_panels

HANDLERS = {
    IncidentDeclared: [escalation_services.rearm],  # the escalation tiers' timers
    IncidentTransitioned: [
        escalation_services.pages_resolve,  # on resolve: the per-person pages escalation opened
        escalation_services.rearm,  # resolve cancels the tiers, reopen re-arms them
    ],
    IncidentUpdated: [escalation_services.rearm],  # severity and flags move the tiers
    SlaBreached: [escalation_services.repage_on_breach],  # not acknowledged: page tier 1 again
    # The command page's "Escalation" fold: pending tiers and "Escalate now".
    CommandPagePanels: [command_page_panels],
}

TIMERS = {
    # A batch of firings writes its pages, timeline entries and responders set-wise.
    escalation_policy.KIND: batch_writes(escalation_services.fire_timer),
    handoff.HANDOFF: handoff.fire_handoff,
    handoff.REMINDER: handoff.fire_reminder,
}
