"""Typed domain events, and each app's one table of what it does on them (DESIGN.md rule 12).

A service that changes something publishes a fact (``publish(IncidentTransitioned(...))``)
inside its transaction; a service that needs other apps' answers asks a question
(``ask(StatusPageMaintenance(now=...))`` returns every answer). Nobody registers anything at
start-up: each installed app may have a ``handlers.py`` with one table::

    # postmortems/handlers.py
    HANDLERS = {
        IncidentTransitioned: [open_postmortem_on_resolve],
        IncidentCloseRequested: [refuse_close_without_meeting],
    }
    TIMERS = {"postmortem_schedule_due": schedule_due}

so every effect of acknowledging an incident can be read from one file per app, in the order
of ``INSTALLED_APPS`` (lower floors first). ``handler_table()`` prints them all.

Handlers run synchronously, in the publisher's transaction: anything slow or remote they want
done is an outbox row or a timer row, never I/O here (STYLE.md habit 3). A handler that raises
aborts the publisher's change, which is how a guard (``IncidentCloseRequested``) refuses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class Event:
    """A fact that happened. Subclasses are frozen dataclasses named in the past tense."""


@dataclass(frozen=True)
class Question:
    """A request for answers from whichever apps can give one; ``ask`` returns them all.

    Handlers return an answer, or ``None`` for "nothing to say".
    """


Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Table:
    app: str
    handlers: dict[type, tuple[Handler, ...]]
    timers: dict[str, Callable[..., None]]


@cache
def tables() -> tuple[Table, ...]:
    """Each installed app's ``handlers.py`` tables, lowest floor first (read once)."""
    found = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.handlers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.handlers":
                raise
            continue
        found.append(
            Table(
                app=config.label,
                handlers={k: tuple(v) for k, v in getattr(module, "HANDLERS", {}).items()},
                timers=dict(getattr(module, "TIMERS", {})),
            )
        )
    return tuple(found)


def _handlers(kind: type) -> list[Handler]:
    return [fn for table in tables() for fn in table.handlers.get(kind, ())]


def publish(event: Event) -> None:
    """Run every app's handlers for this event, now, in the caller's transaction."""
    for handler in _handlers(type(event)):
        handler(event)


def ask(question: Question) -> list[Any]:
    """Every app's answer to ``question`` (``None`` answers left out)."""
    answers = (handler(question) for handler in _handlers(type(question)))
    return [a for a in answers if a is not None]


def timer_handler(kind: str) -> Callable[..., None] | None:
    """The function that fires timers of ``kind``, or ``None`` if no installed app knows it."""
    for table in tables():
        if kind in table.timers:
            return table.timers[kind]
    return None


def handler_table() -> str:
    """Every event and timer kind with what each app does on it, as a reader would list it."""
    lines: list[str] = []
    kinds: dict[type, None] = {}
    for table in tables():
        kinds.update(dict.fromkeys(table.handlers))
    for kind in sorted(kinds, key=lambda k: (k.__module__, k.__name__)):
        lines.append(f"{kind.__module__}.{kind.__name__}")
        for table in tables():
            for fn in table.handlers.get(kind, ()):
                lines.append(f"    {table.app}: {fn.__module__}.{fn.__qualname__}")
    lines.append("timers")
    for table in tables():
        for kind, fn in sorted(table.timers.items()):
            lines.append(f"    {kind} → {table.app}: {fn.__module__}.{fn.__qualname__}")
    return "\n".join(lines)
