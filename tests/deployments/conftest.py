from __future__ import annotations

import pytest

from deployments.models import CheckTemplateItem
from deployments.seed import seed_checklist
from nexusops.common import roles
from tests.factories import ServiceFactory, UserFactory, severities


@pytest.fixture
def checklist(db) -> None:
    seed_checklist(lambda _: None)
    assert CheckTemplateItem.objects.count() == 14


@pytest.fixture
def world(db, checklist) -> dict:
    severities()
    for slug in ("user-service", "api-gateway", "payment-service"):
        ServiceFactory(slug=slug)
    return {
        "responder": UserFactory(username="dep-responder", role=roles.RESPONDER),
        "ic": UserFactory(username="dep-ic", role=roles.INCIDENT_COMMANDER),
        "manager": UserFactory(username="dep-manager", role=roles.MANAGER),
        "stakeholder": UserFactory(username="dep-stakeholder", role=roles.STAKEHOLDER),
    }
