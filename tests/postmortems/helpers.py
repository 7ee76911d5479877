"""Builders shared by the post-mortem tests: a resolved incident and its post-mortem."""

from __future__ import annotations

from incidents.services import incident_transition
from postmortems.models import PostMortem
from tests.factories import UserFactory, incident

RESOLVE_PATH = ("acknowledge", "investigate", "mitigate", "resolve")


def resolved(severity_code: str = "P1", actor=None, **kwargs):  # noqa: ANN001
    """An incident driven to resolved through the real services."""
    actor = actor or UserFactory(username="pm-ic", role="Incident Commander")
    inc = incident(severity_code=severity_code, actor=actor, **kwargs)
    for action in RESOLVE_PATH:
        inc = incident_transition(incident=inc, action=action, actor=actor)
    return inc


def postmortem(severity_code: str = "P1", **kwargs) -> PostMortem:
    return PostMortem.objects.get(incident=resolved(severity_code, **kwargs))
