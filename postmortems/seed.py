"""Reference data: the post-mortem policy row with the runbook's defaults (48 hours)."""

from __future__ import annotations

from collections.abc import Callable

from .services.common import policy


def seed_policy(log: Callable[[str], None]) -> None:
    row = policy()
    log(
        f"post-mortem policy: P0/P1 required ({row.required_severities}), "
        f"schedule within {row.schedule_within}"
    )
