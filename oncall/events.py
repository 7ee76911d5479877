"""On-call's questions to the apps above it (nexusops/engine/events.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexusops.engine.events import Question

if TYPE_CHECKING:
    from .models import Rotation


@dataclass(frozen=True)
class HandoffSections(Question):
    """Extra lines for the on-call handoff note of ``rotation`` for the week [start, end)."""

    rotation: Rotation
    start: dt.datetime
    end: dt.datetime
