"""The actions NexusOps can run, each typed and validated before any call.

An action is an :class:`ActionSpec`: its parameters (:class:`Param`), who may request it
(a permission), whether it is dangerous (then a dry run is shown and a second person must
approve), how long it may take, whether a worker may start it again after another worker
died in the middle of it (``idempotent``), and two functions that call an adapter in
``nexusops/integrations``: ``preview(params)`` (the dry run; returns text, or a
:class:`Preview` whose ``pinned`` ids the run must use) and ``run(params, progress)``
(returns an :class:`Outcome`; ``params["pinned"]`` holds what the approved dry run pinned,
when it pinned anything). To add one::

    register(ActionSpec(
        key="redis.ping", label="Redis PING", vendor="redis",
        params=(), run=_ping, configured=_redis_configured,
    ))

in one of the modules imported at the bottom of this file, and name it in a scenario step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, NotFoundError
from nexusops.integrations.errors import IntegrationError

DIAGNOSIS = "remediation.run_diagnosis"
REMEDIATION = "remediation.run_remediation"
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Param:
    """One parameter. ``kind``: dns1123 (a Kubernetes name), int, text, choice, datetime."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    default: Any = None
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 200
    help: str = ""
    check: Callable[[str], None] | None = None  # a text's own rule: raises ValueError


@dataclass(frozen=True)
class Outcome:
    summary: str
    output: str = ""
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """A dry run's text and what it pinned (a version id, a revision, image tags).

    The approver approves exactly the pinned things: the run reads them from
    ``params["pinned"]`` and fails with a clear message if one no longer exists, rather than
    acting on whatever is current when it runs.
    """

    text: str
    pinned: dict = field(default_factory=dict)


class ActionFailed(Exception):
    """The action ran and did not achieve its goal (a sync that ended Failed)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.message, self.output = message, output


@dataclass(frozen=True)
class ActionSpec:
    key: str
    label: str
    vendor: str
    run: Callable[[dict, Progress], Outcome]
    configured: Callable[[], str]  # "" when configured, else what to set
    params: tuple[Param, ...] = ()
    permission: str = DIAGNOSIS
    dangerous: bool | Callable[[dict], bool] = False
    preview: Callable[[dict], str | Preview] | None = None
    # The run's time limit (the Celery soft limit of its task); pg_dump and restores take long.
    timeout_seconds: int = 120
    description: str = ""
    standalone: bool = False  # offered on the Runbooks page, outside any incident
    # Safe to start again when its worker died mid-run? None: only read-only diagnosis is.
    idempotent: bool | None = None

    def is_dangerous(self, params: Mapping[str, Any]) -> bool:
        return self.dangerous(dict(params)) if callable(self.dangerous) else bool(self.dangerous)

    @property
    def repeatable(self) -> bool:
        return self.permission == DIAGNOSIS if self.idempotent is None else self.idempotent


_actions: dict[str, ActionSpec] = {}


def register(spec: ActionSpec) -> ActionSpec:
    _actions[spec.key] = spec
    return spec


def get(key: str) -> ActionSpec:
    try:
        return _actions[key]
    except KeyError:
        raise NotFoundError(f"There is no action {key!r}.") from None


def all_actions() -> list[ActionSpec]:
    return sorted(_actions.values(), key=lambda s: (s.vendor, s.label))


def choices() -> list[tuple[str, str]]:
    return [(s.key, f"{s.vendor}: {s.label}") for s in all_actions()]


def clean(spec: ActionSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validated, typed parameters, or an ApplicationError naming every bad field.

    Nothing here calls a vendor: names are checked as the vendor defines them (DNS-1123 for
    Kubernetes) and numbers against their ranges before the request is even stored.
    """
    from nexusops.integrations.kubernetes import validation

    unknown = set(raw) - {p.name for p in spec.params}
    errors: dict[str, list[str]] = {name: ["Not a parameter of this action."] for name in unknown}
    cleaned: dict[str, Any] = {}
    for p in spec.params:
        value = raw.get(p.name, None)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if p.default is not None:
                value = p.default
            elif p.required:
                errors[p.name] = [f"{p.label} is required."]
                continue
            else:
                cleaned[p.name] = None
                continue
        try:
            if p.kind == "dns1123":
                cleaned[p.name] = validation.dns1123_subdomain(str(value), what=p.label.lower())
            elif p.kind == "int":
                cleaned[p.name] = _int(p, value)
            elif p.kind == "choice":
                if str(value) not in p.choices:
                    raise ValueError(f"{p.label} must be one of {', '.join(p.choices)}.")
                cleaned[p.name] = str(value)
            elif p.kind == "datetime":
                cleaned[p.name] = _datetime(p, value).isoformat()
            else:
                text = str(value)
                if len(text) > p.max_length:
                    raise ValueError(f"{p.label} is at most {p.max_length} characters.")
                if p.check is not None:
                    p.check(text)
                cleaned[p.name] = text
        except (ValueError, IntegrationError) as exc:
            errors[p.name] = [getattr(exc, "message", None) or str(exc)]
    if errors:
        words = "; ".join(f"{name}: {' '.join(e)}" for name, e in sorted(errors.items()))
        raise ApplicationError(f"{spec.label}: {words}", fields=errors)
    return cleaned


def _int(p: Param, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{p.label} must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{p.label} must be a whole number.") from None
    if str(number) != str(value).lstrip("+") and not isinstance(value, int):
        raise ValueError(f"{p.label} must be a whole number.")
    if p.min is not None and number < p.min or p.max is not None and number > p.max:
        raise ValueError(f"{p.label} must be between {p.min} and {p.max}.")
    return number


def _datetime(p: Param, value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{p.label} must be an ISO date and time, e.g. 2026-01-31T14:05Z."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # the runbook speaks UTC
    if moment > clock.now():
        raise ValueError(f"{p.label} {moment.isoformat()} is in the future.")
    return moment.astimezone(dt.UTC)


def text_table(rows: list[Mapping[str, Any]], columns: list[str]) -> str:
    """A fixed-width table, as the command line tools print them."""
    if not rows:
        return "(none)"
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


# Each module registers its actions; one a line, so adding one is a one-line change.
from . import (  # noqa: E402,F401
    cloud,
    cluster,
    datastores,
    ebs,
    elasticache,
    mongodb,
    rds,
    s3_exposure,
    saas,
)
