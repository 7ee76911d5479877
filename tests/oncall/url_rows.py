"""Role/URL matrix rows for on-call (tests/test_url_matrix.py).

Every signed-in role sees who is on call and the calendar; asking for an override is
everyone's but the stakeholder's (``request_override``); approving one, the PagerDuty import
and the pay report are the Manager's (``manage_oncall``, ``view_pay_report``); "Escalate now"
needs ``drive_incident``.
"""

from __future__ import annotations

import datetime as dt
import itertools

from oncall.models import Rotation, RotationOverride
from tests.factories import UserFactory, incident
from tests.support.urlmatrix import ADMIN, ANON, DRIVERS, MANAGER, SIGNED_IN, WRITERS, Row, page

_seq = itertools.count(1)
MANAGERS = (MANAGER, ADMIN)


def _rotation() -> dict:
    rotation = Rotation.objects.create(name=f"Matrix {next(_seq)}", start_date=dt.date(2026, 1, 2))
    return {"pk": rotation.pk}


def _requested() -> dict:
    """An override someone outside the matrix asked for someone else: waiting for approval."""
    rotation = Rotation.objects.create(name=f"Matrix {next(_seq)}", start_date=dt.date(2026, 1, 2))
    asker, taker = (
        UserFactory(username=f"ask-{next(_seq)}"),
        UserFactory(username=f"take-{next(_seq)}"),
    )
    start = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    override = RotationOverride.objects.create(
        rotation=rotation,
        user=taker,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        requested_by=asker,
        state=RotationOverride.State.REQUESTED,
    )
    return {"pk": override.pk}


def _person() -> dict:
    return {"user_id": UserFactory(username=f"matrix-pay-{next(_seq)}").pk}


def _number() -> dict:
    return {"number": incident().number}


def _post(ok, **kw) -> Row:
    return Row(
        {ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, method="post", **kw
    )


ROWS: dict[str, Row] = {
    "oncall-home": page(),
    "oncall-calendar": page(),
    "oncall-override-create": _post(WRITERS, kwargs=_rotation, data=lambda: {}),
    # Approving needs a manager or someone on the rotation (nobody in the matrix is on it).
    "oncall-override-decide": _post(
        MANAGERS, kwargs=_requested, data=lambda: {"decision": "approve"}
    ),
    # PagerDuty is not configured in the matrix: the page says so.
    "oncall-pagerduty-import": page(ok=MANAGERS),
    "oncall-pay-report": page(ok=MANAGERS),
    "oncall-pay-csv": page(ok=MANAGERS),
    "oncall-pay-person": page(ok=MANAGERS, kwargs=_person),
    "incident-escalate": _post(DRIVERS, kwargs=_number, data=lambda: {"reason": "matrix"}),
}
