from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from nexusops.common.errors import Conflict, NotFoundError, PermissionDeniedError

from ..models import Incident

PERMISSION_WORDS = {
    "declare_incident": "declare incidents",
    "acknowledge_incident": "acknowledge incidents",
    "drive_incident": "drive incidents",
    "add_note": "add notes",
    "view_internal": "see internal notes",
}


def require(actor: AbstractBaseUser | None, codename: str) -> None:
    """``actor=None`` is the system itself (a sweep, a webhook already authenticated)."""
    if actor is None:
        return
    if not actor.is_active or not actor.has_perm(f"incidents.{codename}"):
        words = PERMISSION_WORDS.get(codename, codename)
        raise PermissionDeniedError(f"Your role cannot {words}.")


def actor_name(actor: AbstractBaseUser | None) -> str:
    if actor is None:
        return "NexusOps"
    return actor.get_full_name() or actor.get_username()


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
