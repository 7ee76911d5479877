"""How action runs appear on an incident's timeline (internal: they carry system details)."""

from __future__ import annotations

from django.contrib.auth.models import User

from incidents.models import Channel
from incidents.services.timeline import timeline_append

from .. import actions
from ..models import ActionRun

# The timeline shows this much of an output; the whole of it is a download away.
TIMELINE_OUTPUT_CHARS = 2000


def describe(run: ActionRun) -> str:
    try:
        label = actions.get(run.action).label
    except Exception:  # noqa: BLE001 - an action removed from code still has its runs
        label = run.action
    args = ", ".join(f"{k}={v}" for k, v in run.params.items() if v not in (None, ""))
    return f"#{run.pk} {label}" + (f" ({args})" if args else "")


def truncated(text: str, limit: int = TIMELINE_OUTPUT_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + f"\n… ({len(text) - limit} more characters)", True


def run_event(
    run: ActionRun,
    kind: str,
    message: str,
    *,
    actor: User | None = None,
    data: dict | None = None,
) -> None:
    """Append to the run's incident, if it has one. Call inside the change's transaction."""
    incident = run.incident
    if incident is None:
        return
    timeline_append(
        incident=incident,
        kind=kind,
        message=message,
        actor=actor,
        channel=Channel.WEB if actor is not None else Channel.SYSTEM,
        internal=True,
        data={"run": run.pk, "action": run.action, "state": run.state, **(data or {})},
    )
