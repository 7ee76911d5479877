"""My rows of the role/URL matrix, run against tests.deployments.urls_for_tests until the lead
mounts the app (then tests/test_url_matrix.py runs them too)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nexusops.common import roles
from tests.factories import UserFactory
from tests.support.urlmatrix import ANON

from .url_rows import ROWS

CASES = [(name, role) for name, row in ROWS.items() for role in row.expect]


@pytest.mark.django_db
@pytest.mark.urls("tests.deployments.urls_for_tests")
@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_role_gets_expected_status(client, name, role, checklist):
    row = ROWS[name]
    if role != ANON:
        user = UserFactory(username=f"u-{role.lower().replace(' ', '-')}", role=role)
        if role == roles.MANAGER:
            user.is_staff = True
            user.save()
        client.force_login(user)
    url = reverse(name, kwargs=row.kwargs())
    data = row.data() if row.data else None
    response = (
        getattr(client, row.method)(url, data)
        if data is not None
        else getattr(client, row.method)(url)
    )
    assert response.status_code == row.expect[role], (
        f"{row.method.upper()} {url} as {role}: {response.status_code}"
    )
