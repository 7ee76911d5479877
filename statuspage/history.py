"""The public updates of the demo's past incidents (``seed_demo`` only, never production).

``incidents/history.py`` writes ninety days of closed incidents; this gives each of them above
P3 whose services have a public component the three updates a commander would have published
(investigating, monitoring, resolved), dated from the incident's own clock. Written directly,
like the incidents: nothing of theirs may reach subscribers or Statuspage. An incident that
has updates already is left alone, so a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from incidents.history import history_incidents
from incidents.models import Incident

from .models import Component, ComponentStatus, PublicUpdate


def seed_public_update_history(say: Callable[[str], None]) -> None:
    components: dict[int, Component] = {c.service_id: c for c in Component.objects.all()}
    made = 0
    for incident in history_incidents():
        if incident.severity.code == "P3" or incident.public_updates.exists():
            continue
        own = [components[s.pk] for s in incident.services.all() if s.pk in components]
        if own:
            _public(incident, own, incident.commander, incident.severity.code)
            made += 1
    say(f"public update history: {made} past incidents published")


def _public(inc: Incident, components: list[Component], author, code: str) -> None:  # noqa: ANN001
    worst = {
        "P0": ComponentStatus.MAJOR_OUTAGE,
        "P1": ComponentStatus.PARTIAL_OUTAGE,
    }.get(code, ComponentStatus.DEGRADED)
    names = ", ".join(c.name for c in components)
    down = {str(c.pk): worst for c in components}
    up = {str(c.pk): ComponentStatus.OPERATIONAL for c in components}
    PublicUpdate.objects.bulk_create(
        [
            PublicUpdate(
                incident=inc,
                stage=PublicUpdate.Stage.INVESTIGATING,
                message=f"We are investigating problems with {names}.",
                component_statuses=down,
                author=author,
                published_at=inc.first_update_at,
            ),
            PublicUpdate(
                incident=inc,
                stage=PublicUpdate.Stage.MONITORING,
                message="A fix is in place and we are monitoring the results.",
                component_statuses={},
                author=author,
                published_at=inc.mitigated_at,
            ),
            PublicUpdate(
                incident=inc,
                stage=PublicUpdate.Stage.RESOLVED,
                message=f"{names} is operating normally again.",
                component_statuses=up,
                author=author,
                published_at=inc.resolved_at,
            ),
        ]  # fmt: skip
    )
