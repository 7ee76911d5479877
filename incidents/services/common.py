from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, User

from nexusops.common.errors import ApplicationError, Conflict, NotFoundError
from nexusops.common.services import Permissions
from nexusops.engine.held_rows import holding

from ..models import Incident, Service

PERMISSION_WORDS = {
    "declare_incident": "declare incidents",
    "acknowledge_incident": "acknowledge incidents",
    "drive_incident": "drive incidents",
    "add_note": "add notes",
    "view_internal": "see internal notes",
}


require = Permissions("incidents", PERMISSION_WORDS).require


def resolve_services(slugs: Iterable[str | Service], *, required: bool = False) -> list[Service]:
    """The Service rows for ``slugs`` (or rows), in the order given, without repeats.

    Blank names are dropped (a form's empty field); an unknown name refuses the whole list.
    ``required`` refuses an empty list: a deployment or maintenance window names at least one
    service, an incident may not know its services yet. Deployments use this too: the
    Service rows live here, and ``nexusops/common`` knows no domain.
    """
    wanted = [s.slug if isinstance(s, Service) else str(s).strip() for s in slugs]
    wanted = [w for w in wanted if w]
    if required and not wanted:
        raise ApplicationError(
            "Name at least one service.", fields={"services": ["Name at least one service."]}
        )
    found = {s.slug: s for s in Service.objects.filter(slug__in=wanted)}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ApplicationError(
            f"Unknown service(s): {', '.join(unknown)}.",
            fields={"services": [f"Unknown service {u!r}." for u in unknown]},
        )
    return [found[s] for s in dict.fromkeys(wanted)]


def lock(incident: Incident | int, *, expected_version: int | None = None) -> Incident:
    """Re-read and lock the row; refuse a stale version (optimistic concurrency).

    The one lock order (DESIGN.md rule 11): the incident first, then its timers and other
    rows. A service that changes an incident's timers, checklist or outbox rows calls this
    before touching them; the engine's timer sweep takes the same order (the incident with
    ``SKIP LOCKED``, then the timer), so a person's action and a sweep never wait on each
    other in a cycle.
    """
    pk = incident.pk if isinstance(incident, Incident) else incident
    try:
        locked = (
            Incident.objects.select_for_update(of=("self",)).select_related("severity").get(pk=pk)
        )
    except Incident.DoesNotExist:
        raise NotFoundError("No such incident.") from None
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"{locked.number} was changed by someone else (version {locked.version}, you had "
            f"{expected_version}). Reload and try again.",
            code="stale_version",
            extra={"current_version": locked.version},
        )
    return locked


def bump(incident: Incident, *fields: str) -> None:
    incident.version += 1
    incident.save(update_fields=["version", "updated_at", *fields])


def responders_add(incident: Incident, people: Iterable[AbstractBaseUser]) -> None:
    """Make ``people`` responders of the (locked) incident; those already are stay as they are.

    Inside a timer batch that holds rows (``nexusops.engine.held_rows``), written with the
    batch's others in one statement (``ON CONFLICT DO NOTHING``, as ``add()`` does).
    """
    people = list(people)
    through = Incident.responders.through
    held = holding(through)
    if held is None:
        incident.responders.add(*cast("list[User]", people))
        return
    for person in people:
        row = through(incident_id=incident.pk, user_id=person.pk)
        held.link(row, incident.pk, person.pk)
