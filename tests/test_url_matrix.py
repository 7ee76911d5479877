"""Every URL in the URLconf, requested by every role, answers what it should.

A new endpoint fails ``test_every_url_has_a_row`` until it gets a row in ``MATRIX``: that is
the point. A row says how to build the URL (``kwargs`` may create objects) and what each
role gets back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from nexusops.common import roles
from tests.factories import UserFactory

ANON = "anonymous"
STAKEHOLDER, RESPONDER, IC, MANAGER, ADMIN = (
    roles.STAKEHOLDER,
    roles.RESPONDER,
    roles.INCIDENT_COMMANDER,
    roles.MANAGER,
    roles.ADMIN,
)
SIGNED_IN = (STAKEHOLDER, RESPONDER, IC, MANAGER, ADMIN)
EVERYONE = (ANON, *SIGNED_IN)


@dataclass
class Row:
    expect: dict[str, int]
    kwargs: Callable[[], dict] = field(default=lambda: {})
    method: str = "get"


def page(ok=SIGNED_IN, **kw) -> Row:
    """A login-only page: anonymous users are sent to the login, other roles get 403."""
    return Row({ANON: 302, **{r: (200 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def api(ok=SIGNED_IN, **kw) -> Row:
    return Row({ANON: 401, **{r: (200 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def public(status=200, **kw) -> Row:
    return Row({r: status for r in EVERYONE}, **kw)


MATRIX: dict[str, Row] = {
    "home": page(),
    "login": Row({ANON: 200, **{r: 302 for r in SIGNED_IN}}),
    "logout": Row({r: 302 for r in EVERYONE}, method="post"),
    "healthz": public(),
    "readyz": public(),
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
    response = getattr(client, row.method)(url)
    assert response.status_code == row.expect[role], (
        f"{row.method.upper()} {url} as {role}: {response.status_code}"
    )
    if response.status_code == 302 and role == ANON and name not in ("logout", "admin:index"):
        assert response["Location"].startswith(reverse("login"))
