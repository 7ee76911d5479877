"""Who sees what of an incident: the one visibility rule, on every surface."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User


def can_see_internal(user: User | None) -> bool:
    return bool(user and user.has_perm("incidents.view_internal"))


# The one visibility rule for an incident, on every surface (command page, API): what a user
# without ``view_internal`` (a stakeholder) never gets. Internal timeline events follow the
# same rule in ``timeline()``. A surface that shows one of these asks ``shows()`` first.
INTERNAL_INCIDENT_FIELDS = frozenset(
    {"commander", "responders", "created_by", "checklist", "pending_timers", "transitions"}
)


@dataclass(frozen=True)
class IncidentVisibility:
    internal: bool

    def shows(self, field: str) -> bool:
        return self.internal or field not in INTERNAL_INCIDENT_FIELDS


def incident_visibility(user: User | None) -> IncidentVisibility:
    return IncidentVisibility(internal=can_see_internal(user))
