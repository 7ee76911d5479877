"""The engine every app stands on: the outbox, timers, inbound deliveries and domain events.

It knows no domain. Apps above it publish typed events (``events.publish``), list what they do
on each in their own ``handlers.py``, write outbound calls as outbox rows and due moments as
timer rows; the engine's sweeps and workers carry them out. See docs/architecture.md.
"""
