"""Fixtures for the status page tests: its senders, components for NEXUS services, people."""

from __future__ import annotations

import pytest

from nexusops.common import roles
from statuspage import senders
from statuspage.models import Component
from tests.factories import ServiceFactory, UserFactory


@pytest.fixture(autouse=True)
def _status_senders():
    # StatuspageConfig.ready() registers them; registering again is harmless.
    senders.register()


@pytest.fixture
def components(db) -> dict[str, Component]:
    """Public components for three services, keyed by service slug."""
    made = {}
    for order, (slug, name) in enumerate(
        [("api-gateway", "API"), ("auth-service", "Login"), ("content-service", "Uploads")]
    ):
        service = ServiceFactory(slug=slug)
        made[slug] = Component.objects.create(service=service, name=name, order=order)
    return made


@pytest.fixture
def ic(db):
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


@pytest.fixture
def responder(db):
    return UserFactory(username="ravi", role=roles.RESPONDER)


@pytest.fixture
def stakeholder(db):
    return UserFactory(username="sam", role=roles.STAKEHOLDER)
