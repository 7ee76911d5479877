"""Every URL in the URLconf, requested by every role, answers what it should.

A new endpoint fails ``test_every_url_has_a_row`` until it gets a row in ``MATRIX``: that is
the point. A row says how to build the URL (``kwargs`` may create objects) and what each
role gets back.
"""

from __future__ import annotations

import importlib

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import UserFactory
from tests.support.urlmatrix import (
    ADMIN,
    ANON,
    EVERYONE,
    IC,
    MANAGER,
    RESPONDER,
    SIGNED_IN,
    STAKEHOLDER,
    Row,
    api,
    page,
    public,
)

# Modules that add rows for their app's URLs, each as ``ROWS: dict[str, Row]``.
ROW_MODULES = [
    "tests.incidents.url_rows_ui",
    "tests.incidents.url_rows_api",
    "tests.incidents.url_rows_inbound",
    "tests.incidents.url_rows_deliveries",
    "tests.oncall.url_rows",
    "tests.statuspage.url_rows",
    "tests.remediation.url_rows",
    "tests.deployments.url_rows",
    "tests.postmortems.url_rows",
    "tests.alerts.url_rows",
    "tests.accounts.url_rows",
    "tests.reports.url_rows",
    "tests.drills.url_rows",
]

MATRIX: dict[str, Row] = {
    "home": Row({r: 302 for r in EVERYONE}),  # / opens the incident list
    "login": Row({ANON: 200, **{r: 302 for r in SIGNED_IN}}),
    "logout": Row({r: 302 for r in EVERYONE}, method="post"),
    "healthz": public(),
    "readyz": public(),
    # Open to loopback by default in embedded mode (the test client's address); the token and
    # network rules are tested in tests/monitoring/test_metrics.py.
    "metrics": public(),
    "service-list": page(),
    "admin:index": Row(
        {ANON: 302, STAKEHOLDER: 302, RESPONDER: 302, IC: 302, MANAGER: 200, ADMIN: 200}
    ),
    "api-schema": api(),
    "api-docs": page(),
    "api-me": api(),
    "api-services": api(),
    "api-severities": api(),
}

for _module in ROW_MODULES:
    try:
        MATRIX.update(importlib.import_module(_module).ROWS)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise

# The admin has its own permission system; its index stands for the whole site.
SKIP_NAMESPACES = {"admin"}


def _names(patterns, namespace: str | None = None) -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns in SKIP_NAMESPACES:
                continue
            names |= _names(
                p.url_patterns, f"{namespace}:{p.namespace}" if namespace and p.namespace else ns
            )
        elif isinstance(p, URLPattern) and p.name:
            names.add(f"{namespace}:{p.name}" if namespace else p.name)
    return names


def test_every_url_has_a_row():
    missing = _names(get_resolver().url_patterns) - set(MATRIX)
    assert not missing, f"add rows to MATRIX for: {sorted(missing)}"


CASES = [(name, role) for name, row in MATRIX.items() for role in row.expect]


@pytest.mark.smoke
@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_role_gets_expected_status(client, name, role):
    row = MATRIX[name]
    if role != ANON:
        user = UserFactory(username=f"u-{role.lower().replace(' ', '-')}", role=role)
        if role == MANAGER:
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
    if response.status_code == 302 and role == ANON and name not in ("logout", "admin:index"):
        assert response["Location"].startswith(reverse("login"))
