"""Role/URL matrix rows for deployments and maintenance windows (tests/test_url_matrix.py).

Everyone signed in reads the log; recording needs ``record_deployment`` (Responder and up);
rolling back is for IC and Manager; maintenance scheduling is a Manager's.
"""

from __future__ import annotations

from deployments.models import Deployment, MaintenanceWindow
from nexusops.common import clock
from tests.factories import ServiceFactory, incident
from tests.support.urlmatrix import ANON, MANAGER, SIGNED_IN, WRITERS, Row, api, page

ADMINS = (MANAGER, "Admin")


def _write(ok, **kw) -> Row:  # noqa: ANN001 - a tuple of roles
    return Row({ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def _deployment() -> Deployment:
    now = clock.now()
    d = Deployment.objects.create(
        version="v1.0.0", git_sha="abcdef1", deployer_name="ci", status="in_progress",
        started_at=now, created_at=now, environment="staging",
    )  # fmt: skip
    d.services.set([ServiceFactory(slug="user-service")])
    return d


def _window() -> MaintenanceWindow:
    import datetime as dt

    now = clock.now()
    return MaintenanceWindow.objects.create(
        title="Matrix window", starts_at=now + dt.timedelta(days=30),
        ends_at=now + dt.timedelta(days=30, hours=2), created_at=now,
    )  # fmt: skip


def _emergency() -> dict:
    """An emergency window whose approver is someone else: every role is refused (403)."""
    import datetime as dt

    from tests.factories import UserFactory

    now = clock.now()
    window = MaintenanceWindow.objects.create(
        title="Matrix emergency", kind="emergency", starts_at=now + dt.timedelta(hours=5),
        ends_at=now + dt.timedelta(hours=6), created_at=now,
        approver=UserFactory(username="matrix-cto"),
    )  # fmt: skip
    return {"pk": window.pk}


def _pk() -> dict:
    return {"pk": _deployment().pk}


ROWS: dict[str, Row] = {
    "deployment-list": page(),
    "deployment-new": page(ok=WRITERS),
    "deployment-calendar": page(),
    "deployment-dora": page(),
    "deployment-detail": page(kwargs=_pk),
    "deployment-start": _write(WRITERS, method="post", kwargs=_pk, data=lambda: {}),
    "deployment-finish": _write(WRITERS, method="post", kwargs=_pk,
                                data=lambda: {"status": "failed"}),
    "deployment-check": _write(WRITERS, method="post",
                               kwargs=lambda: {"pk": _deployment().pk, "key": "nope"},
                               data=lambda: {"done": "1"}),
    "deployment-rollback": _write(("Incident Commander", MANAGER, "Admin"), method="post",
                                  kwargs=_pk, data=lambda: {"reason": "matrix"}),
    "deployment-backup": _write(WRITERS, method="post", kwargs=_pk, data=lambda: {}),
    "deployment-link": _write(WRITERS, method="post", kwargs=_pk,
                              data=lambda: {"incident": incident().number}),
    "deployment-incident-changes": page(kwargs=lambda: {"number": incident().number}),
    "maintenance-list": page(),
    "maintenance-work": _write(ADMINS, method="post", kwargs=lambda: {"pk": _window().pk},
                               data=lambda: {"open": "1"}),
    "maintenance-cancel": _write(ADMINS, method="post", kwargs=lambda: {"pk": _window().pk},
                                 data=lambda: {}),
    "maintenance-approve": Row({ANON: 302, **{r: 403 for r in SIGNED_IN}}, method="post",
                               kwargs=_emergency, data=lambda: {}),
    "api-deployment-list": api(),
    "api-deployment-argocd": Row({ANON: 401, **{r: 401 for r in SIGNED_IN}}, method="post",
                                 data=lambda: {}),
}  # fmt: skip
