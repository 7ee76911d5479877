"""Role/URL matrix rows for the incident API (imported by tests/test_url_matrix.py).

Every row builds a fresh incident, so each write is valid for the roles allowed to make it.
"""

from __future__ import annotations

from tests.factories import incident
from tests.support.urlmatrix import DRIVERS, SIGNED_IN, WRITERS, api


def _number() -> dict:
    return {"number": incident().number}


def _checklist_item() -> dict:
    return {"number": incident().number, "key": "implement_fix"}


ROWS = {
    "api-incident-list": api(),
    "api-incident-detail": api(kwargs=_number),
    # Responders may acknowledge (not drive); stakeholders write nothing.
    "api-incident-transitions": api(
        ok=WRITERS, kwargs=_number, method="post", data=lambda: {"action": "acknowledge"}
    ),
    "api-incident-assign": api(
        ok=DRIVERS, kwargs=_number, method="post", data=lambda: {"commander": ""}
    ),
    "api-incident-notes": api(
        ok=WRITERS,
        status=201,
        kwargs=_number,
        method="post",
        data=lambda: {"message": "Checked the load balancer."},
    ),
    "api-incident-timeline": api(ok=SIGNED_IN, kwargs=_number),
    # Those who see internal sections (view_internal: Responder and up) read the checklist.
    "api-incident-checklist": api(ok=WRITERS, kwargs=_number),
    "api-incident-checklist-item": api(
        ok=WRITERS, kwargs=_checklist_item, method="post", data=lambda: {"done": "true"}
    ),
}
