"""Role/URL matrix rows for DR drills (tests/test_url_matrix.py).

Responders, ICs and managers see drills; ICs and managers run them (a Responder's write is
403); Stakeholders see nothing. Writes redirect back to the page with a message.
"""

from __future__ import annotations

import datetime as dt

from drills import services
from drills.models import Drill, DrillEvidence
from nexusops.common import clock
from tests.factories import UserFactory
from tests.support.urlmatrix import ANON, DRIVERS, SIGNED_IN, WRITERS, Row, page


def _write(**kw) -> Row:  # noqa: ANN003
    return Row(
        {ANON: 302, **{r: (302 if r in DRIVERS else 403) for r in SIGNED_IN}}, method="post", **kw
    )


def _planned() -> Drill:
    return services.drill_schedule(scheduled_for=clock.now() + dt.timedelta(days=30))


def _running() -> Drill:
    from drills.seed import seed_drills

    seed_drills(lambda _: None)
    actor = UserFactory(username="matrix-driller", role="Manager")
    return services.drill_start(drill=_planned(), actor=actor)


def _step() -> dict:
    drill = _running()
    return {"pk": drill.pk, "step": drill.steps.order_by("order").first().pk}


def _file() -> dict:
    drill = _running()
    step = drill.steps.first()
    evidence = DrillEvidence.objects.create(
        step=step,
        kind="file",
        file_name="x.log",
        content=b"x",
        added_by=drill.started_by,
        added_at=clock.now(),
    )
    return {"pk": drill.pk, "evidence": evidence.pk}


ROWS = {
    "drill-list": page(ok=WRITERS),
    "drill-detail": page(ok=WRITERS, kwargs=lambda: {"pk": _planned().pk}),
    "drill-schedule": _write(data=lambda: {"when": "2099-01-01T10:00"}),
    "drill-start": _write(kwargs=lambda: {"pk": _planned().pk}),
    "drill-complete": _write(kwargs=lambda: {"pk": _running().pk}),
    "drill-evidence": _write(kwargs=_step, data=lambda: {"kind": "text", "text": "ok"}),
    "drill-step-complete": _write(kwargs=_step),
    "drill-step-assign": _write(
        kwargs=_step, data=lambda: {"owner": UserFactory(username="matrix-owner").pk}
    ),
    "drill-evidence-file": page(ok=WRITERS, kwargs=_file),
}
