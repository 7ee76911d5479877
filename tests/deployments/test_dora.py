"""DORA arithmetic on a hand-computed fixture."""

from __future__ import annotations

import datetime as dt

import pytest

from deployments.models import Deployment, DeploymentIncident, Kind, Status
from deployments.selectors import dora
from incidents.models import Incident, Service
from nexusops.common import clock
from tests.factories import incident

pytestmark = pytest.mark.django_db


def utc(*a) -> dt.datetime:
    return dt.datetime(*a, tzinfo=dt.UTC)


def dep(slug, at, status=Status.SUCCEEDED, kind=Kind.NORMAL, env="production", **kw):
    d = Deployment.objects.create(
        version="v1", git_sha="abcdef1", deployer_name="ci", status=status, kind=kind,
        environment=env, started_at=at, created_at=at, **kw,
    )  # fmt: skip
    d.services.set([Service.objects.get(slug=slug)])
    return d


def resolved(at, minutes):
    inc = incident(services=("user-service",), detected_at=at)
    Incident.objects.filter(pk=inc.pk).update(resolved_at=at + dt.timedelta(minutes=minutes))
    return inc


def test_dora_per_service_and_month(world):
    with clock.frozen(utc(2026, 3, 31, 23)):
        # user-service, January: 4 deployments; 1 failed, 1 linked to an incident (45 min)
        j1 = dep("user-service", utc(2026, 1, 5, 10))
        dep("user-service", utc(2026, 1, 12, 10), status=Status.FAILED)
        dep("user-service", utc(2026, 1, 19, 10))
        dep("user-service", utc(2026, 1, 31, 23, 59))
        # excluded: a rollback, a staging deploy, one in February
        dep("user-service", utc(2026, 1, 6), kind=Kind.ROLLBACK, rollback_of=j1)
        dep("user-service", utc(2026, 1, 7), env="staging")
        f1 = dep("user-service", utc(2026, 2, 1, 0, 0))
        # february: 1 deployment, rolled back, linked to two incidents (30 and 90 min)
        DeploymentIncident.objects.create(deployment=j1, incident=resolved(utc(2026, 1, 5, 11), 45),
                                          linked_at=clock.now())  # fmt: skip
        Deployment.objects.filter(pk=f1.pk).update(status=Status.ROLLED_BACK)
        for minutes in (30, 90):
            DeploymentIncident.objects.create(
                deployment=f1, incident=resolved(utc(2026, 2, 1, 1), minutes), linked_at=clock.now()
            )
        dep("api-gateway", utc(2026, 1, 3))

    rows = {(r.service, r.month): r for r in dora()}
    jan = rows[("user-service", "2026-01")]
    assert (jan.deployments, jan.failed_changes) == (4, 2)
    assert jan.change_failure_rate == 50.0
    assert jan.time_to_restore_minutes == 45.0
    feb = rows[("user-service", "2026-02")]
    assert (feb.deployments, feb.failed_changes, feb.change_failure_rate) == (1, 1, 100.0)
    assert feb.time_to_restore_minutes == 60.0
    gw = rows[("api-gateway", "2026-01")]
    assert (gw.deployments, gw.change_failure_rate, gw.time_to_restore_minutes) == (1, 0.0, None)
    assert set(rows) == {("user-service", "2026-01"), ("user-service", "2026-02"),
                         ("api-gateway", "2026-01")}  # fmt: skip
    assert [r.service for r in dora(service="api-gateway")] == ["api-gateway"]
