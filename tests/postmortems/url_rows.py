"""Role/URL matrix rows for the post-mortem and action-item pages.

Everyone signed in may list post-mortems (a Stakeholder sees the published ones) and see the
incident page's panel; drafts, writes and action items are for Responders, ICs and Managers
(``postmortems.view_draft`` / ``edit_postmortem``).
A successful plain-form write redirects back (302).
"""

from __future__ import annotations

import datetime as dt

from nexusops.common import clock
from tests.factories import UserFactory
from tests.postmortems.helpers import postmortem
from tests.support.urlmatrix import ANON, SIGNED_IN, WRITERS, Row, page


def _write(ok=WRITERS, **kw) -> Row:  # noqa: ANN001 - a tuple of roles
    return Row({ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def _number() -> dict:
    return {"number": postmortem().incident.number}


def _with_root_cause() -> dict:
    pm = postmortem()
    pm.root_cause = "A bad config push."
    pm.save(update_fields=["root_cause"])
    return {"number": pm.incident.number}


def _entry() -> dict:
    pm = postmortem()
    return {"number": pm.incident.number, "pk": pm.entries.first().pk}


def _item() -> dict:
    from postmortems.services import action_item_create

    pm = postmortem()
    item = action_item_create(
        postmortem=pm,
        actor=None,
        description="Add a canary stage",
        owner=UserFactory(username="pm-owner"),
        due_date=clock.now().date() + dt.timedelta(days=7),
    )
    return {"pk": item.pk}


def _meeting() -> dict:
    owner = UserFactory(username="pm-attendee")
    at = (clock.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {"meeting_at": at, "attendees": [str(owner.pk)]}


ROWS: dict[str, Row] = {
    "postmortem-list": page(),
    "postmortem-detail": page(ok=WRITERS, kwargs=_number),
    "postmortem-panel": page(kwargs=_number),
    "postmortem-start": _write(kwargs=_number, method="post", data=lambda: {}),
    "postmortem-edit": page(ok=WRITERS, kwargs=_number),
    "postmortem-autosave": page(
        ok=WRITERS, kwargs=_number, method="post", data=lambda: {"summary": "x", "version": "1"}
    ),
    "postmortem-schedule": _write(kwargs=_number, method="post", data=_meeting),
    "postmortem-entry": _write(
        kwargs=_entry, method="post", data=lambda: {"text": "Paged the DBA", "included": "on"}
    ),
    "postmortem-review": _write(
        kwargs=_with_root_cause, method="post", data=lambda: {"action": "submit"}
    ),
    "postmortem-export": page(ok=WRITERS, kwargs=lambda: {**_number(), "fmt": "md"}),
    "actionitem-create": _write(
        kwargs=_number,
        method="post",
        data=lambda: {
            "description": "Alert on config drift",
            "owner": str(UserFactory(username="pm-owner2").pk),
            "due_date": (clock.now().date() + dt.timedelta(days=3)).isoformat(),
        },
    ),
    "actionitem-list": page(ok=WRITERS),
    "actionitem-update": _write(kwargs=_item, method="post", data=lambda: {"status": "done"}),
}
