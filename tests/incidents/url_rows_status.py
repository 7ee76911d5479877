"""Role/URL matrix rows for the status page (tests/test_url_matrix.py).

The public pages answer everyone, signed in or not. The command page's panels follow the
service permissions: publishing and retrying need ``drive_incident`` (IC, Manager); the
deliveries list needs ``view_internal`` (every role but Stakeholder).
"""

from __future__ import annotations

import itertools

from incidents.models import PublicUpdate, Subscriber
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from tests.factories import incident
from tests.support.urlmatrix import (
    ANON,
    DRIVERS,
    SIGNED_IN,
    WRITERS,
    Row,
    page,
    public,
)

_seq = itertools.count(1)


def _number() -> dict:
    return {"number": incident().number}


def _published() -> dict:
    inc = incident()
    PublicUpdate.objects.create(
        incident=inc, stage="investigating", message="Looking into it.", published_at=clock.now()
    )
    return {"number": inc.number}


def _token() -> dict:
    return {"token": Subscriber.objects.create(email=f"matrix{next(_seq)}@example.com").token}


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
    "status-page": public(),
    "status-incident": public(kwargs=_published),
    "status-feed": public(),
    "status-subscribe": public(),
    "status-subscribe-confirm": public(kwargs=_token),
    "status-unsubscribe": public(kwargs=_token),
    "status-publish": page(ok=DRIVERS, kwargs=_number),
    "status-deliveries": page(ok=WRITERS, kwargs=_number),
    "status-delivery-retry": Row(
        {ANON: 302, **{r: (302 if r in DRIVERS else 403) for r in SIGNED_IN}},
        kwargs=_dead_delivery,
        method="post",
    ),
}
