"""The status page's demo data: one public component per NEXUS service (``seed_demo``)."""

from __future__ import annotations

from collections.abc import Callable

from incidents.models import Service
from incidents.seed import SERVICES

from .models import Component


def seed_components(say: Callable[[str], None]) -> None:
    """One public status page component per NEXUS service (datastores stay internal)."""
    services = Service.objects.filter(kind=Service.Kind.SERVICE).order_by("slug")
    order = {slug: n for n, (slug, *_rest) in enumerate(SERVICES)}
    created = 0
    for service in services:
        _, made = Component.objects.get_or_create(
            service=service,
            defaults={
                "name": service.name,
                "description": service.description[:200],
                "order": order.get(service.slug, len(order)) * 10,
            },
        )
        created += made
    say(f"status page components: {services.count()} ({created} new)")
