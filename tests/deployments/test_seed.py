from __future__ import annotations

import pytest

from deployments.models import CheckTemplateItem, DeployIntegration, Deployment, MaintenanceWindow
from deployments.seed import seed_checklist, seed_demo, seed_windows
from deployments.services import integration_authenticate
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_seeders_are_idempotent():
    ServiceFactory(slug="user-service")
    for _ in range(2):
        seed_checklist(lambda _: None)
        seed_windows(lambda _: None)
        seed_demo(lambda _: None)
    assert CheckTemplateItem.objects.filter(phase="pre").count() == 7
    assert CheckTemplateItem.objects.filter(phase="post").count() == 7
    assert MaintenanceWindow.objects.filter(generated=True).count() >= 2
    assert DeployIntegration.objects.count() == 2
    assert Deployment.objects.count() == 3
    assert integration_authenticate(token="demo-ci-token-change-me", source="ci") is not None
