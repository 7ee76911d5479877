"""Role/URL matrix rows for the alerts app (imported by tests/test_url_matrix.py).

Webhooks take no login: without an integration token every role gets 401. Pages and the
API are for everyone signed in; acknowledging is for Responders and up, silencing for ICs
and Managers; a successful plain-form write redirects back (302).
"""

from __future__ import annotations

from alerts.models import AlertGroup, AlertStatus, Level
from nexusops.common import clock
from tests.factories import incident
from tests.support.urlmatrix import ANON, DRIVERS, EVERYONE, SIGNED_IN, WRITERS, Row, api, page


def _group() -> dict:
    now = clock.now()
    group = AlertGroup.objects.create(
        key="cpu-warning:user-service",
        rule_name="CPU usage > 70%",
        level=Level.WARNING,
        service_slug="user-service",
        title="CPU usage > 70% on user-service",
        status=AlertStatus.FIRING,
        first_seen=now,
        last_seen=now,
        status_changed_at=now,
    )
    return {"pk": group.pk}


def _failure() -> dict:
    from alerts.models import AlertProcessingFailure

    now = clock.now()
    failure = AlertProcessingFailure.objects.create(
        key="unmatched:auth-service",
        attempts=5,
        last_error="ValueError: boom",
        first_failed_at=now,
        last_failed_at=now,
        dead_at=now,
    )
    return {"pk": failure.pk}


def _write(ok, **kw) -> Row:  # noqa: ANN001 - a tuple of roles
    return Row({ANON: 302, **{r: (302 if r in ok else 403) for r in SIGNED_IN}}, **kw)


def _unsigned_post() -> Row:
    return Row({role: 401 for role in EVERYONE}, method="post")


ROWS = {
    "alerts-ingest-alertmanager": _unsigned_post(),
    "alerts-ingest-datadog": _unsigned_post(),
    "alerts-ingest-generic": _unsigned_post(),
    "api-alert-groups": api(),
    "alert-group-list": page(),
    "alert-list": page(),
    "alert-group-detail": page(kwargs=_group),
    "alert-group-ack": _write(WRITERS, kwargs=_group, method="post"),
    "alert-group-silence": _write(
        DRIVERS,
        kwargs=_group,
        method="post",
        data=lambda: {"minutes": "30", "reason": "known noisy node"},
    ),
    "alert-processing-retry": _write(WRITERS, kwargs=_failure, method="post"),
    "alert-incident-groups": page(kwargs=lambda: {"number": incident().number}),
}
