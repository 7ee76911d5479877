"""Role/URL matrix rows for the command page's Deliveries panel (tests/test_url_matrix.py).

Retrying needs ``drive_incident`` (IC, Manager); the list needs ``view_internal`` (every role
but Stakeholder).
"""

from __future__ import annotations

import itertools

from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from tests.factories import incident
from tests.support.urlmatrix import ANON, DRIVERS, SIGNED_IN, WRITERS, Row, page

_seq = itertools.count(1)


def _number() -> dict:
    return {"number": incident().number}


def _dead_delivery() -> dict:
    inc = incident()
    message = OutboxMessage.objects.create(
        key=f"{inc.number}:matrix-dead-{next(_seq)}",
        target="email.public_update",
        incident=inc,
        state=OutboxMessage.State.DEAD,
        attempts=10,
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )
    return {"pk": message.pk}


ROWS: dict[str, Row] = {
    "status-deliveries": page(ok=WRITERS, kwargs=_number),
    "status-delivery-retry": Row(
        {ANON: 302, **{r: (302 if r in DRIVERS else 403) for r in SIGNED_IN}},
        kwargs=_dead_delivery,
        method="post",
    ),
}
