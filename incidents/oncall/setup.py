"""Hooks on-call into the incident lifecycle; called once from ``IncidentsConfig.ready()``."""

from __future__ import annotations


def register() -> None:
    from ..services import timers
    from ..services.timeline import timeline_listeners
    from . import escalation, handoff, senders

    senders.register()
    timers.timer_handler(escalation.KIND)(escalation.fire_timer)
    timers.timer_handler(handoff.HANDOFF)(handoff.fire_handoff)
    timers.timer_handler(handoff.REMINDER)(handoff.fire_reminder)
    if escalation.on_timeline_event not in timeline_listeners:
        timeline_listeners.append(escalation.on_timeline_event)
    if escalation.on_breach not in timers.breach_listeners:
        timers.breach_listeners.append(escalation.on_breach)
