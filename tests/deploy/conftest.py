"""The rendered manifests: ``objects`` for the base and the overlay, ``production`` alone."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import TARGETS, render


@pytest.fixture(params=TARGETS)
def objects(request) -> tuple[dict, ...]:
    return render(request.param)


@pytest.fixture
def production() -> tuple[dict, ...]:
    return render("overlays/production")
