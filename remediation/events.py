"""What happens to remediation runs, as typed events (see nexusops/engine/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexusops.engine.events import Event

if TYPE_CHECKING:
    from .models import ActionRun


@dataclass(frozen=True)
class ActionRunFinished(Event):
    """A run reached its end state (succeeded, failed, timed out), in that change's transaction."""

    run: ActionRun
