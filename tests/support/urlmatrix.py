"""Row builders for the role/URL matrix (tests/test_url_matrix.py).

Each app's tests add rows in their own module (``ROWS = {...}``), imported by the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nexusops.common import roles

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
WRITERS = (RESPONDER, IC, MANAGER, ADMIN)
DRIVERS = (IC, MANAGER, ADMIN)


@dataclass
class Row:
    """``kwargs`` builds the URL's kwargs (it may create rows); ``data`` is a POST body."""

    expect: dict[str, int]
    kwargs: Callable[[], dict] = field(default=lambda: {})
    method: str = "get"
    data: Callable[[], dict] | None = None


def page(ok=SIGNED_IN, status=200, **kw) -> Row:
    """A login-only page: anonymous users are sent to the login, other roles get 403."""
    return Row({ANON: 302, **{r: (status if r in ok else 403) for r in SIGNED_IN}}, **kw)


def api(ok=SIGNED_IN, status=200, **kw) -> Row:
    return Row({ANON: 401, **{r: (status if r in ok else 403) for r in SIGNED_IN}}, **kw)


def public(status=200, **kw) -> Row:
    return Row({r: status for r in EVERYONE}, **kw)
