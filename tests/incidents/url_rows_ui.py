"""Role/URL matrix rows for the incident pages (tests/test_url_matrix.py).

Reads are open to every signed-in role. Writes follow the service permissions granted in
``incidents/apps.py``: a Stakeholder may write nothing (403); a Responder may declare,
acknowledge, add notes and tick the checklist (``declare_incident``, ``acknowledge_incident``,
``add_note``) but not drive an incident (``drive_incident``: other transitions, assignment,
edits). A successful write redirects back to the command page (302).
"""

from __future__ import annotations

from tests.factories import incident
from tests.support.urlmatrix import ANON, DRIVERS, SIGNED_IN, WRITERS, Row, page


def _number() -> dict:
    return {"number": incident().number}


def _dead_timer() -> dict:
    from nexusops.common import clock
    from nexusops.engine.models import Timer

    inc = incident()
    now = clock.now()
    timer = Timer.objects.create(
        incident=inc, kind="url_matrix", due_at=now, attempts=8, dead_at=now, last_error="boom"
    )
    return {"number": inc.number, "pk": timer.pk}


def _write(ok, **kw) -> Row:  # noqa: ANN001 - a tuple of roles
    return Row({ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, **kw)


ROWS: dict[str, Row] = {
    # Everyone's own profile; the browser's zone is stored quietly (204).
    "profile": page(),
    "profile-browser-time-zone": page(
        status=204, method="post", data=lambda: {"time_zone": "Asia/Tokyo"}
    ),
    # The console opens on the incident list.
    "incident-list": page(kwargs=lambda: {}),
    "incident-declare": page(ok=WRITERS),
    "incident-detail": page(kwargs=_number),
    "incident-live": page(kwargs=_number),
    "incident-timeline": page(kwargs=_number),
    "incident-transition": _write(
        WRITERS, kwargs=_number, method="post", data=lambda: {"action": "acknowledge"}
    ),
    "incident-note": _write(
        WRITERS,
        kwargs=_number,
        method="post",
        data=lambda: {"message": "Looking at the gateway.", "internal": "on"},
    ),
    "incident-assign": _write(
        DRIVERS, kwargs=_number, method="post", data=lambda: {"commander": ""}
    ),
    "incident-edit": _write(
        DRIVERS,
        kwargs=_number,
        method="post",
        data=lambda: {"title": "API errors on checkout and cart", "severity": "P1"},
    ),
    "incident-timer-retry": _write(DRIVERS, kwargs=_dead_timer, method="post"),
    "incident-checklist": _write(
        WRITERS,
        kwargs=lambda: {"number": incident().number, "key": "update_status_page"},
        method="post",
        data=lambda: {"done": "on"},
    ),
}
