"""What every deployments service shares: permissions, names, validation, Slack notices."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.contrib.auth.models import User

from nexusops.common import clock
from nexusops.common.errors import ApplicationError
from nexusops.common.services import Permissions, actor_name
from nexusops.engine.outbox import outbox_enqueue

from ..models import Deployment, DeploymentCheck

SHA = re.compile(r"^[0-9a-f]{7,40}$")
WORDS = {
    "record_deployment": "record deployments",
    "override_checklist": "override a deployment's checklist",
    "rollback_deployment": "roll deployments back",
    "schedule_maintenance": "schedule maintenance windows",
    "add_deployintegration": "add deployment integrations",
}


# ``actor=None`` is the system or an authenticated integration (CI, ArgoCD).
require = Permissions("deployments", WORDS).require


def invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, fields={field: [message]})


def clean_sha(value: str | None, field: str = "git_sha", *, required: bool = True) -> str:
    value = (value or "").strip().lower()
    if not value and not required:
        return ""
    if not SHA.fullmatch(value):
        raise invalid(field, f"{field} must be a git SHA: 7 to 40 hex digits, not {value!r}.")
    return value


def clean_times(
    started_at: dt.datetime | None, finished_at: dt.datetime | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    for name, value in (("started_at", started_at), ("finished_at", finished_at)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, f"{name} needs a time zone (e.g. 2026-01-31T14:05:00Z).")
        if value is not None and value > clock.now() + dt.timedelta(minutes=5):
            raise invalid(name, f"{name} is in the future.")
    if started_at and finished_at and finished_at < started_at:
        raise invalid("finished_at", "A deployment cannot finish before it starts.")
    return started_at, finished_at


def deploys_channel() -> str:
    return getattr(settings, "SLACK_DEPLOYS_CHANNEL", "") or "#deploys"


def notify_team(deployment: Deployment, event: str, text: str) -> bool:
    """Post to the deploys channel through the outbox; True when it was enqueued."""
    return outbox_enqueue(
        target="slack.post",
        key=f"deployment:{deployment.pk}:{event}",
        payload={"channel": deploys_channel(), "text": text},
    ).queued


def services_text(deployment: Deployment) -> str:
    return ", ".join(s.slug for s in deployment.services.all())


def tick(
    deployment: Deployment,
    *keys: str,
    actor: User | None = None,
    note: str = "",
) -> list[str]:
    """Tick items not yet done; returns the keys ticked now."""
    now = clock.now()
    pending = DeploymentCheck.objects.filter(deployment=deployment, key__in=keys, done_at=None)
    done = list(pending.values_list("key", flat=True))
    pending.update(done_at=now, done_by=actor, done_by_name=actor_name(actor), note=note[:300])
    return done


def tick_auto(deployment: Deployment, *autos: str, note: str = "") -> list[str]:
    keys = DeploymentCheck.objects.filter(
        deployment=deployment, auto__in=autos, done_at=None
    ).values_list("key", flat=True)
    return tick(deployment, *list(keys), note=note)
