"""On-call's outbox senders, registered once from ``IncidentsConfig.ready()``; what on-call does
on events and timers is in ``incidents/handlers.py``."""

from __future__ import annotations


def register() -> None:
    from . import senders

    senders.register()
