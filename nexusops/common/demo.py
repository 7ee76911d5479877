"""The registry of demo-data seeders that ``manage.py seed_demo`` runs in order.

Each app adds its own from ``AppConfig.ready()``; a seeder must be idempotent (running it
twice leaves the same rows), because ``make run`` calls it on every start::

    demo.register("incidents", seed_incident_catalog, order=10)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    name: str
    fn: Callable[[Callable[[str], None]], None]
    order: int
    demo_only: bool = False


_seeders: dict[str, Seeder] = {}


def register(
    name: str,
    fn: Callable[[Callable[[str], None]], None],
    *,
    order: int = 100,
    demo_only: bool = False,
) -> None:
    """``demo_only`` seeders (demo users, sample incidents) never run in production."""
    _seeders[name] = Seeder(name, fn, order, demo_only)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))
