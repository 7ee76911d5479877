"""What happens to an incident, as typed events (DESIGN.md rule 12).

Services publish these inside the change's transaction, after appending the timeline fact
that records it (``entry``): the timeline is the audit log, these are what other code acts
on. What each app does on each event is in its ``handlers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexusops.engine.events import Event, Question

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from nexusops.engine.models import Timer

    from .models import Incident, TimelineEvent


@dataclass(frozen=True)
class IncidentEvent(Event):
    incident: Incident
    entry: TimelineEvent

    @property
    def channel(self) -> str:
        """Where the change came from (a vendor's own changes are not echoed back to it)."""
        return self.entry.channel


@dataclass(frozen=True)
class IncidentDeclared(IncidentEvent):
    pass


@dataclass(frozen=True)
class IncidentTransitioned(IncidentEvent):
    """One of the six steps' moves; ``action`` is a key of ``lifecycle.TRANSITIONS``."""

    action: str
    previous: str


@dataclass(frozen=True)
class IncidentUpdated(IncidentEvent):
    """Title, summary, impact, severity or flags changed; ``changed`` names the fields."""

    changed: frozenset[str]


@dataclass(frozen=True)
class IncidentAssigned(IncidentEvent):
    pass


@dataclass(frozen=True)
class NoteAdded(IncidentEvent):
    """``entry.visibility`` says whether it was internal or a stakeholder update."""

    internal: bool


@dataclass(frozen=True)
class SlaBreached(IncidentEvent):
    timer: Timer


@dataclass(frozen=True)
class MonitoringCompleted(IncidentEvent):
    pass


@dataclass(frozen=True)
class IncidentEscalated(IncidentEvent):
    """A tier was paged. Published from the timer sweep too, where a batch's rows are
    written together at its end (``nexusops.engine.held_rows``): a handler writes through
    the services (``outbox_enqueue``, ``timeline_append``) and reads none of those rows back
    from the database."""


@dataclass(frozen=True)
class IncidentCloseRequested(Event):
    """Before a close commits; a handler raises ``Conflict`` to refuse it."""

    incident: Incident


@dataclass(frozen=True)
class CommandPagePanels(Question):
    """Panels a higher app renders inline on the command page of ``incident`` for ``user``.

    An answer is a dict merged into the page's context (the status page answers
    ``{"status_publish": ...}`` when ``drive`` is true); the page's template includes the
    app's partial, which shows nothing without its key. ``internal`` and ``drive`` are what
    the page already decided the user sees and may do.
    """

    incident: Incident
    user: AbstractBaseUser | AnonymousUser
    internal: bool
    drive: bool
