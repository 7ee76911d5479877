"""On-call: escalation on time (runbook 2.4), weekly rotations and on-call pay (runbook 8).

``register()`` is called once from ``IncidentsConfig.ready()``: it hooks escalation into the
timeline and the SLA breaches, registers the timer handlers and the outbox senders.
"""
