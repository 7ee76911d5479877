"""What an inbound Slack request does, run by a Celery task: each action calls ONE service.

The view parses and validates (``slack_commands``, ``views``) and hands a ``(name, params)``
pair to :func:`chat.inbound.tasks.inbound_action_task`; the task loads the actor and runs
the action here. Params are JSON (ids and strings), so they survive the broker. An action
returns the reply shown to the person (already escaped for mrkdwn) and raises
``ApplicationError`` when a rule says no.

To add one::

    @action("mitigate")
    def _mitigate(actor, *, incident: int) -> str:
        done = incident_transition(incident=incident, action="mitigate", actor=actor,
                                   channel=Channel.SLACK)
        return f"{done.number} is mitigated."
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser

from incidents.models import Channel, Incident
from incidents.services import (
    incident_assign,
    incident_declare,
    incident_note_add,
    incident_transition,
    incident_update,
)
from nexusops.common.errors import ApplicationError
from nexusops.common.services import actor_name
from nexusops.integrations.slack.messages import escape_mrkdwn

Action = Callable[..., str]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register


def run_action(name: str, actor: AbstractBaseUser | None, params: dict) -> str:
    fn = ACTIONS.get(name)
    if fn is None:
        raise ApplicationError(f"Unknown inbound action {name!r}.")
    return fn(actor, **params)


def _title(incident: Incident) -> str:
    return f"*{incident.number}* ({incident.severity.code}, {incident.get_status_display()})"


@action("declare")
def _declare(
    actor, *, title: str, severity: str, services: list[str], channel: str = Channel.SLACK
) -> str:
    incident = incident_declare(
        title=title, severity=severity, services=services, actor=actor, channel=Channel(channel)
    )
    return f"Declared {_title(incident)}: {escape_mrkdwn(incident.title)}"


@action("transition")
def _transition(actor, *, incident: int, action: str, channel: str = Channel.SLACK) -> str:
    done = incident_transition(
        incident=incident, action=action, actor=actor, channel=Channel(channel)
    )
    return f"{_title(done)}: {done.get_status_display().lower()} by you."


@action("severity")
def _severity(actor, *, incident: int, severity: str, channel: str = Channel.SLACK) -> str:
    done = incident_update(
        incident=incident, severity=severity, actor=actor, channel=Channel(channel)
    )
    return f"{_title(done)}: severity is {done.severity.code}."


@action("commander")
def _commander(actor, *, incident: int, commander: int, channel: str = Channel.SLACK) -> str:
    done = incident_assign(
        incident=incident, commander=commander, actor=actor, channel=Channel(channel)
    )
    who = actor_name(done.commander)
    return f"{_title(done)}: incident commander is {escape_mrkdwn(who)}."


@action("note")
def _note(actor, *, incident: int, text: str, internal: bool, channel: str = Channel.SLACK) -> str:
    done = incident_note_add(
        incident=incident, message=text, internal=internal, actor=actor, channel=Channel(channel)
    )
    what = "Internal note added to" if internal else "Stakeholder update posted on"
    return f"{what} {_title(done)}."
