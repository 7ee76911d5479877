"""Role/URL matrix rows for the status page (tests/test_url_matrix.py).

The public pages answer everyone, signed in or not. The command page's publish panel follows
the service permission: publishing needs ``drive_incident`` (IC, Manager).
"""

from __future__ import annotations

import itertools

from nexusops.common import clock
from statuspage.models import PublicUpdate, Subscriber
from tests.factories import incident
from tests.support.urlmatrix import (
    DRIVERS,
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


ROWS: dict[str, Row] = {
    "status-page": public(),
    "status-incident": public(kwargs=_published),
    "status-feed": public(),
    "status-subscribe": public(),
    "status-subscribe-confirm": public(kwargs=_token),
    "status-unsubscribe": public(kwargs=_token),
    "status-publish": page(ok=DRIVERS, kwargs=_number),
}
