"""The status page's questions to the apps above it (nexusops/engine/events.py).

The public page announces scheduled maintenance without knowing who schedules it: it asks
``ScheduledMaintenance`` and shows every ``MaintenanceNotice`` the answers hold (deployments
answers with its maintenance windows, in ``deployments/handlers.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from nexusops.engine.events import Question


@dataclass(frozen=True)
class MaintenanceNotice:
    """One scheduled maintenance as the public page shows it (runbook section 7)."""

    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    body: str = ""
    components: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduledMaintenance(Question):
    """What maintenance to announce on the public page at ``now``: lists of MaintenanceNotice."""

    now: dt.datetime
