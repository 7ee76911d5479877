"""The ``/incident`` slash command: subcommands registered with their help text.

A handler runs inside the HTTP request (Slack wants an answer within 3 seconds), so it only
parses and looks things up: it returns a :class:`Reply` shown at once, or a :class:`Deferred`
naming an action in :mod:`chat.inbound.actions` that a Celery task runs (one service
call), answering later through Slack's ``response_url``.

To add a subcommand::

    @command("mitigate", usage="mitigate [INC-…]", help="Mark the incident mitigated.")
    def mitigate(inv: Invocation) -> Deferred:
        incident = inv.incident()
        return Deferred("transition", {"incident": incident.pk, "action": "mitigate"},
                        f"Marking {incident.number} mitigated…")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from incidents.models import Incident
from incidents.selectors import incident_get
from nexusops.common.errors import NotFoundError
from nexusops.common.services import actor_name
from nexusops.integrations.slack.messages import escape_mrkdwn

from .people import user_for_slack

NUMBER = re.compile(r"INC-\d{8}-\d{3,}\Z", re.IGNORECASE)
SEVERITY = re.compile(r"P[0-3]\Z", re.IGNORECASE)
SLACK_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\Z")
SERVICES_OPTION = re.compile(r"(?:^|\s)--services(?:=|\s+)(\S+)")
NOT_LINKED = (
    "No NexusOps account is linked to your Slack user; ask a manager to add your Slack id "
    "to your NexusOps profile."
)


@dataclass(frozen=True)
class Reply:
    """Shown to the person at once (ephemeral). ``text`` is mrkdwn, already escaped."""

    text: str


@dataclass(frozen=True)
class Deferred:
    """Work for the task: ``action`` with JSON ``params``; ``ack`` is shown meanwhile."""

    action: str
    params: dict
    ack: str


class CommandError(Exception):
    """Bad input to a subcommand: ``text`` goes back to the person, nothing changes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Invocation:
    user: AbstractBaseUser | None
    slack_user_id: str
    channel_id: str
    args: str
    name: str = ""
    words: list[str] = field(default_factory=list)
    provider: str = "slack"  # which chat's channel ``channel_id`` is
    # How the person calls these commands in their chat, and what an unlinked one is told.
    prefix: str = "/incident"
    not_linked: str = NOT_LINKED

    def require_user(self) -> AbstractBaseUser:
        if self.user is None:
            raise CommandError(self.not_linked)
        return self.user

    def incident(self) -> Incident:
        """``INC-…`` when given as the first word (and consumed), else the channel's one."""
        if self.words and NUMBER.match(self.words[0]):
            number = self.words.pop(0)
            try:
                return incident_get(number=number)
            except NotFoundError:
                raise CommandError(f"No incident {escape_mrkdwn(number)}.") from None
        found = Incident.objects.select_related("severity", "commander")
        if self.provider == "slack":
            found = found.filter(slack_channel_id=self.channel_id)
        else:
            found = found.filter(
                chat_channels__provider=self.provider, chat_channels__channel_id=self.channel_id
            )
        incident = found.first() if self.channel_id else None
        if incident is None:
            raise CommandError(
                f"This is not an incident channel: run `{self.prefix} {self.name}` in the "
                f"incident's channel or name it, e.g. `{self.prefix} "
                f"{self.name} INC-20261126-001`."
            )
        return incident

    def rest(self) -> str:
        return " ".join(self.words).strip()


Handler = Callable[[Invocation], Reply | Deferred]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    handler: Handler


COMMANDS: dict[str, Command] = {}


def command(name: str, *, usage: str, help: str) -> Callable[[Handler], Handler]:  # noqa: A002
    """Register ``handler`` as ``/incident <name>``; ``usage`` and ``help`` feed ``help``."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, help, handler)
        return handler

    return register


def dispatch(
    *,
    text: str,
    user: AbstractBaseUser | None,
    slack_user_id: str,
    channel_id: str,
    provider: str = "slack",
    prefix: str = "/incident",
    not_linked: str = NOT_LINKED,
) -> Reply | Deferred:
    """Parse ``/incident <text>`` and run the subcommand's handler; ``user`` is the console
    user linked to ``slack_user_id`` (:func:`~chat.inbound.people.user_for_slack`).

    Another chat calls the same commands its own way (``prefix``: Teams' ``@NexusOps``) and
    tells an unlinked person how its own accounts are linked (``not_linked``)."""
    words = text.split()
    name = words[0].lower() if words else "help"
    spec = COMMANDS.get(name)
    if spec is None:
        return Reply(f"Unknown command `{escape_mrkdwn(name)}`; try `{prefix} help`.")
    inv = Invocation(
        user=user,
        slack_user_id=slack_user_id,
        channel_id=channel_id,
        provider=provider,
        prefix=prefix,
        not_linked=not_linked,
        args=text.strip()[len(words[0]) :].strip() if words else "",
        name=name,
        words=words[1:],
    )
    try:
        return spec.handler(inv)
    except CommandError as exc:
        return Reply(exc.text)


def _status_line(incident: Incident) -> str:
    ic = actor_name(incident.commander, "unassigned")
    return (
        f"*{incident.number}* · {incident.severity.code} · {incident.get_status_display()} · "
        f"IC {escape_mrkdwn(ic)}\n{escape_mrkdwn(incident.title)}"
    )


# --- subcommands ----------------------------------------------------------------------------
@command("help", usage="help", help="List these commands.")
def help_(inv: Invocation) -> Reply:
    lines = [f"`{inv.prefix} {c.usage}`: {c.help}" for c in COMMANDS.values()]
    return Reply("*NexusOps incident commands*\n" + "\n".join(lines))


@command(
    "declare",
    usage="declare <P0-P3> <title> [--services a,b]",
    help="Declare an incident (you may name the affected services).",
)
def declare(inv: Invocation) -> Deferred:
    inv.require_user()
    services: list[str] = []
    found = SERVICES_OPTION.search(inv.args)
    args = inv.args
    if found:
        services = [s for s in found.group(1).split(",") if s.strip()]
        args = (args[: found.start()] + " " + args[found.end() :]).strip()
    words = args.split()
    if not words or not SEVERITY.match(words[0]):
        raise CommandError(f"Usage: `{inv.prefix} declare <P0-P3> <title> [--services a,b]`.")
    title = " ".join(words[1:])
    if not title:
        raise CommandError(f"Give the incident a title: `{inv.prefix} declare P1 Checkout errors`.")
    severity = words[0].upper()
    return Deferred(
        "declare",
        {"title": title, "severity": severity, "services": services},
        f"Declaring a {severity} incident: {escape_mrkdwn(title)}…",
    )


@command("status", usage="status [INC-…]", help="Show the incident's status (this channel's).")
def status(inv: Invocation) -> Reply:
    inv.require_user()
    return Reply(_status_line(inv.incident()))


def _transition(inv: Invocation, action: str, doing: str) -> Deferred:
    inv.require_user()
    incident = inv.incident()
    return Deferred(
        "transition", {"incident": incident.pk, "action": action}, f"{doing} {incident.number}…"
    )


@command("ack", usage="ack [INC-…]", help="Acknowledge the incident.")
def ack(inv: Invocation) -> Deferred:
    return _transition(inv, "acknowledge", "Acknowledging")


@command("resolve", usage="resolve [INC-…]", help="Resolve the incident (once verified fixed).")
def resolve(inv: Invocation) -> Deferred:
    return _transition(inv, "resolve", "Resolving")


@command("severity", usage="severity [INC-…] <P0-P3>", help="Change the incident's severity.")
def severity(inv: Invocation) -> Deferred:
    inv.require_user()
    incident = inv.incident()
    code = inv.rest()
    if not SEVERITY.match(code):
        raise CommandError(f"Usage: `{inv.prefix} severity <P0-P3>`.")
    return Deferred(
        "severity",
        {"incident": incident.pk, "severity": code.upper()},
        f"Setting {incident.number} to {code.upper()}…",
    )


@command(
    "ic",
    usage="ic [INC-…] <@user>",
    help="Make someone the incident commander (a Slack mention, or @ and their NexusOps username).",
)
def ic(inv: Invocation) -> Deferred:
    inv.require_user()
    incident = inv.incident()
    who = inv.rest()
    mention = SLACK_MENTION.match(who)
    user = None
    if mention:
        user = user_for_slack(mention.group(1))
    elif who.startswith("@") and len(who) > 1:
        # Without escaped mentions Slack sends "@name": accept a console username.
        user = get_user_model().objects.filter(username=who[1:], is_active=True).first()
    else:
        raise CommandError(f"Usage: `{inv.prefix} ic @someone`.")
    if user is None:
        raise CommandError(f"No NexusOps account is linked to {escape_mrkdwn(who)}.")
    return Deferred(
        "commander",
        {"incident": incident.pk, "commander": user.pk},
        f"Making {escape_mrkdwn(user.get_username())} incident commander of {incident.number}…",
    )


def _note(inv: Invocation, internal: bool) -> Deferred:
    inv.require_user()
    incident = inv.incident()
    text = inv.rest()
    if not text:
        raise CommandError(f"Usage: `{inv.prefix} {inv.name} <text>`.")
    what = "internal note" if internal else "stakeholder update"
    return Deferred(
        "note",
        {"incident": incident.pk, "text": text, "internal": internal},
        f"Adding an {what} to {incident.number}…"
        if internal
        else f"Posting a {what} on {incident.number}…",
    )


@command("note", usage="note [INC-…] <text>", help="Add an internal note to the timeline.")
def note(inv: Invocation) -> Deferred:
    return _note(inv, internal=True)


@command("update", usage="update [INC-…] <text>", help="Post a stakeholder (public) update.")
def update(inv: Invocation) -> Deferred:
    return _note(inv, internal=False)
